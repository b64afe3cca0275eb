//! Scripted input (`stipple view --exec "..."`): the same keys and drags a practitioner uses,
//! fed through the viewer's own input handlers, for demos, frame timing and tests that cannot
//! send real input events.
//!
//! Commands, separated by `;` or new lines (positions are fractions of the window):
//! `key NAME` (`key l`, `key shift+l`, `key ctrl+s`, `key escape`), `drag X0 Y0 X1 Y1 [right]`,
//! `scroll LINES`, `screenshot FILE`, `orbit FRAMES` (turns the head once round and prints the
//! mean frame time, interactive and full quality), `wait MS`, `quit`.

#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Key {
        name: String,
        shift: bool,
        ctrl: bool,
    },
    Drag {
        from: (f32, f32),
        to: (f32, f32),
        right: bool,
    },
    Scroll(f32),
    Screenshot(std::path::PathBuf),
    Orbit(u32),
    Wait(u64),
    Quit,
}

/// Parses a script; errors name the command and what was expected.
pub fn parse(script: &str) -> Result<Vec<Command>, String> {
    let mut out = Vec::new();
    for raw in script.split([';', '\n']) {
        let words: Vec<&str> = raw.split_whitespace().collect();
        let Some((&verb, args)) = words.split_first() else {
            continue;
        };
        let bad = |what: &str| format!("--exec: `{}`: expected {what}", raw.trim());
        let num = |s: &str| s.parse::<f32>().ok().filter(|v| v.is_finite());
        let cmd = match (verb, args) {
            ("key", [k]) => {
                let mut name = k.to_ascii_lowercase();
                let (mut shift, mut ctrl) = (false, false);
                loop {
                    if let Some(rest) = name.strip_prefix("shift+") {
                        (shift, name) = (true, rest.to_string());
                    } else if let Some(rest) = name.strip_prefix("ctrl+") {
                        (ctrl, name) = (true, rest.to_string());
                    } else {
                        break;
                    }
                }
                Command::Key { name, shift, ctrl }
            }
            ("drag", [a, b, c, d, rest @ ..]) if rest.len() <= 1 => {
                let v: Option<Vec<f32>> = [a, b, c, d].iter().map(|s| num(s)).collect();
                let v = v.ok_or_else(|| bad("four numbers 0-1: drag X0 Y0 X1 Y1 [right]"))?;
                let right = match rest {
                    [] => false,
                    ["right"] => true,
                    _ => return Err(bad("`right` or nothing after the four numbers")),
                };
                Command::Drag {
                    from: (v[0], v[1]),
                    to: (v[2], v[3]),
                    right,
                }
            }
            ("scroll", [n]) => Command::Scroll(num(n).ok_or_else(|| bad("scroll LINES"))?),
            ("screenshot", [path]) => Command::Screenshot(path.into()),
            ("orbit", [n]) => Command::Orbit(
                n.parse()
                    .ok()
                    .filter(|n| (1..=3600).contains(n))
                    .ok_or_else(|| bad("orbit FRAMES (1-3600)"))?,
            ),
            ("wait", [ms]) => Command::Wait(ms.parse().map_err(|_| bad("wait MILLISECONDS"))?),
            ("quit", []) => Command::Quit,
            _ => {
                return Err(bad(
                    "one of: key NAME, drag X0 Y0 X1 Y1, scroll LINES, screenshot FILE, \
                     orbit FRAMES, wait MS, quit",
                ));
            }
        };
        out.push(cmd);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_consultation() {
        let s =
            parse("drag 0.5 0.5 0.7 0.5; key shift+L\nscreenshot a.png; orbit 36; quit").unwrap();
        assert_eq!(s.len(), 5);
        assert_eq!(
            s[1],
            Command::Key {
                name: "l".into(),
                shift: true,
                ctrl: false
            }
        );
        assert_eq!(s[3], Command::Orbit(36));
    }

    #[test]
    fn bad_commands_say_what_was_expected() {
        let e = parse("drag 0.5 x 1 1").unwrap_err();
        assert!(e.contains("four numbers"), "{e}");
        assert!(parse("jump").unwrap_err().contains("one of"));
    }
}
