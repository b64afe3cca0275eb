//! What keys and pointer gestures mean in the viewer. Real input (winit) and scripted input
//! (`--exec`) both arrive here by key name, so a script exercises the same bindings a
//! practitioner uses.

use crate::camera::ViewName;

/// A step the viewer takes in response to input.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Action {
    View(ViewName),
    NextLighting,
    PreviousLighting,
    NextSession,
    NextYears,
    ToggleSplit,
    ToggleHelp,
    /// Design mode: the hairline's points, dragged on the head.
    ToggleDesign,
    /// Write the design into the scene file.
    Save,
    /// Return the point under the pointer to the rules.
    Unpin,
    Screenshot,
    /// Turn the camera by degrees (right, up).
    Turn(f32, f32),
    /// Multiply the camera distance.
    Zoom(f32),
    Quit,
}

/// The bindings, as shown by the help overlay (and the README).
pub const HELP: &[(&str, &str)] = &[
    (
        "left drag",
        "turn the head (drag the split line to move it)",
    ),
    ("right drag / shift+drag", "pan"),
    ("wheel / two fingers", "zoom"),
    ("arrows, + -", "turn, zoom"),
    (
        "1-7, 0",
        "front left right back top front-left front-right, hairline",
    ),
    ("B", "before/after split on/off"),
    ("L / shift+L", "next / previous lighting preset"),
    ("S", "next session (state after it)"),
    ("A", "years of ageing"),
    ("D", "design the hairline: drag its points on the head"),
    ("U", "design: the point under the pointer back to the rules"),
    ("W / ctrl+S", "design: save the points into the scene file"),
    ("P / F12", "screenshot (PNG)"),
    ("H / F1", "this help"),
    ("Q / Esc", "quit"),
];

/// Degrees one arrow key press turns the head.
const ARROW_STEP_DEG: f32 = 15.0;

/// The action of a key, by its lower-case name: a character (`"l"`, `"+"`) or a named key
/// (`"escape"`, `"f1"`, `"left"`).
pub fn key_action(key: &str, shift: bool) -> Option<Action> {
    Some(match key {
        "1" => Action::View(ViewName::Front),
        "2" => Action::View(ViewName::Left),
        "3" => Action::View(ViewName::Right),
        "4" => Action::View(ViewName::Back),
        "5" => Action::View(ViewName::Top),
        "6" => Action::View(ViewName::FrontLeft),
        "7" => Action::View(ViewName::FrontRight),
        "0" => Action::View(ViewName::HairlineCloseup),
        "b" => Action::ToggleSplit,
        "l" if shift => Action::PreviousLighting,
        "l" => Action::NextLighting,
        "s" => Action::NextSession,
        "a" => Action::NextYears,
        "d" => Action::ToggleDesign,
        "w" => Action::Save,
        "u" => Action::Unpin,
        "p" | "f12" => Action::Screenshot,
        "h" | "f1" | "?" => Action::ToggleHelp,
        "q" | "escape" => Action::Quit,
        "left" => Action::Turn(-ARROW_STEP_DEG, 0.0),
        "right" => Action::Turn(ARROW_STEP_DEG, 0.0),
        "up" => Action::Turn(0.0, ARROW_STEP_DEG),
        "down" => Action::Turn(0.0, -ARROW_STEP_DEG),
        "+" | "=" => Action::Zoom(1.0 / 1.25),
        "-" => Action::Zoom(1.25),
        _ => return None,
    })
}

/// The name [`key_action`] expects for a winit key.
pub fn key_name(key: &winit::keyboard::Key) -> Option<String> {
    use winit::keyboard::{Key, NamedKey};
    match key {
        Key::Character(c) => Some(c.to_lowercase()),
        Key::Named(n) => Some(
            match n {
                NamedKey::Escape => "escape",
                NamedKey::F1 => "f1",
                NamedKey::F12 => "f12",
                NamedKey::ArrowLeft => "left",
                NamedKey::ArrowRight => "right",
                NamedKey::ArrowUp => "up",
                NamedKey::ArrowDown => "down",
                _ => return None,
            }
            .to_string(),
        ),
        _ => None,
    }
}

/// What a pointer drag does, decided when the button goes down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drag {
    Orbit,
    Pan,
    Split,
    /// Moving a hairline point in design mode.
    Design,
}

/// Pixels either side of the split line within which a press grabs it.
pub const SPLIT_GRAB_PX: f32 = 10.0;

/// Degrees the head turns per pixel dragged (a drag across a 1000 px window is a half turn).
pub const ORBIT_DEG_PER_PX: f32 = 0.18;

/// Which drag a press starts: the split line when pressed on it with the left button, a pan
/// with the right or middle button (or shift), otherwise turning the head. Positions are in
/// logical pixels (physical ones divided by the scale factor).
pub fn drag_for_press(
    button: winit::event::MouseButton,
    shift: bool,
    x: f32,
    split_x: Option<f32>,
) -> Drag {
    use winit::event::MouseButton;
    match button {
        MouseButton::Right | MouseButton::Middle => Drag::Pan,
        _ if shift => Drag::Pan,
        _ if split_x.is_some_and(|s| (x - s).abs() <= SPLIT_GRAB_PX) => Drag::Split,
        _ => Drag::Orbit,
    }
}

/// Distance factor for a scroll of `lines` wheel notches (positive: towards the head).
pub fn zoom_for_scroll(lines: f32) -> f32 {
    0.9f32.powf(lines.clamp(-20.0, 20.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use winit::event::MouseButton;

    #[test]
    fn every_help_key_has_a_binding() {
        for key in [
            "1", "b", "l", "s", "a", "d", "w", "u", "p", "h", "q", "escape", "f12", "f1",
        ] {
            assert!(key_action(key, false).is_some(), "{key}");
        }
        assert_eq!(key_action("l", true), Some(Action::PreviousLighting));
        assert_eq!(key_action("x", false), None);
    }

    #[test]
    fn a_press_on_the_split_line_grabs_it() {
        let left = MouseButton::Left;
        assert_eq!(drag_for_press(left, false, 205.0, Some(200.0)), Drag::Split);
        assert_eq!(drag_for_press(left, false, 250.0, Some(200.0)), Drag::Orbit);
        assert_eq!(drag_for_press(left, false, 200.0, None), Drag::Orbit);
        assert_eq!(drag_for_press(left, true, 200.0, Some(200.0)), Drag::Pan);
        assert_eq!(
            drag_for_press(MouseButton::Right, false, 0.0, None),
            Drag::Pan
        );
    }
}
