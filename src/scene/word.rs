//! Values a scene names by a word ("0603", "hair-loss", "norwood-3", "#d7a486"), parsed once
//! when the file is read: a [`Word`] keeps the typed value beside the word as written, and a
//! word that does not parse fails the read with what was expected. The key and line it stood
//! at are added by [`key_at`] (serde knows neither).

use crate::plan::condition::HairLossPattern;
use crate::plan::{Coverage, Needle, ZoneName};
use glam::Vec3;

/// A type a scene names by a word.
pub trait SceneWord: Sized {
    fn parse_word(word: &str) -> Option<Self>;
    /// What a word of this type looks like ("a needle code GGPP ...").
    fn expected() -> String;
}

/// A word of a scene file and its typed value.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(try_from = "String", bound = "T: SceneWord")]
pub struct Word<T> {
    text: String,
    value: T,
}

impl<T: SceneWord> TryFrom<String> for Word<T> {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        match T::parse_word(&text) {
            Some(value) => Ok(Word { text, value }),
            None => Err(format!("expected {}, got {text:?}", T::expected())),
        }
    }
}

impl<T: SceneWord> Word<T> {
    /// A built-in default's word; it must parse.
    pub fn builtin(text: &str) -> Self {
        Self::try_from(text.to_string())
            .unwrap_or_else(|e| panic!("built-in default {text:?}: {e}"))
    }
}

impl<T: Copy> Word<T> {
    pub fn get(&self) -> T {
        self.value
    }
}

impl<T> Word<T> {
    /// The word as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl<T> std::fmt::Display for Word<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// A skin colour, linear sRGB: from sRGB hex or a Fitzpatrick preset.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SkinColour(pub Vec3);

impl SceneWord for SkinColour {
    fn parse_word(word: &str) -> Option<Self> {
        super::parse_skin(word).map(SkinColour)
    }
    fn expected() -> String {
        "an sRGB colour like \"#d7a486\" or a preset \"fitzpatrick-I\" to \"fitzpatrick-VI\"".into()
    }
}

/// A hair colour, linear sRGB, from sRGB hex.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HairColour(pub Vec3);

impl SceneWord for HairColour {
    fn parse_word(word: &str) -> Option<Self> {
        super::parse_srgb_hex(word).map(HairColour)
    }
    fn expected() -> String {
        "an sRGB colour like \"#2b2522\"".into()
    }
}

impl SceneWord for Needle {
    fn parse_word(word: &str) -> Option<Self> {
        Needle::parse(word)
    }
    fn expected() -> String {
        Needle::EXPECTED.into()
    }
}

impl SceneWord for Coverage {
    fn parse_word(word: &str) -> Option<Self> {
        Coverage::parse(word)
    }
    fn expected() -> String {
        "\"hair-loss\" or \"full-scalp\"".into()
    }
}

impl SceneWord for ZoneName {
    fn parse_word(word: &str) -> Option<Self> {
        ZoneName::parse(word)
    }
    fn expected() -> String {
        format!("one of {}", ZoneName::NAMES)
    }
}

impl SceneWord for HairLossPattern {
    fn parse_word(word: &str) -> Option<Self> {
        HairLossPattern::parse(word)
    }
    fn expected() -> String {
        format!("one of {}", HairLossPattern::NAMES)
    }
}

/// The dotted key (`plan.zones[0].name`) of the value at byte `at` of a TOML text, for
/// errors serde reports with a place but no key. None where the text does not parse or no
/// value lies there.
pub fn key_at(text: &str, at: usize) -> Option<String> {
    let doc = toml_edit::Document::parse(text).ok()?;
    in_table(doc.as_table(), at, String::new())
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn in_table(table: &toml_edit::Table, at: usize, path: String) -> Option<String> {
    table
        .iter()
        .find_map(|(key, item)| in_item(item, at, join(&path, key)))
}

fn in_item(item: &toml_edit::Item, at: usize, path: String) -> Option<String> {
    match item {
        toml_edit::Item::None => None,
        toml_edit::Item::Value(v) => in_value(v, at, path),
        toml_edit::Item::Table(t) => in_table(t, at, path),
        toml_edit::Item::ArrayOfTables(a) => a
            .iter()
            .enumerate()
            .find_map(|(i, t)| in_table(t, at, format!("{path}[{i}]"))),
    }
}

fn in_value(value: &toml_edit::Value, at: usize, path: String) -> Option<String> {
    if !value.span().is_some_and(|s| s.contains(&at)) {
        return None;
    }
    let inner = match value {
        toml_edit::Value::Array(a) => a
            .iter()
            .enumerate()
            .find_map(|(i, v)| in_value(v, at, format!("{path}[{i}]"))),
        toml_edit::Value::InlineTable(t) => {
            t.iter().find_map(|(k, v)| in_value(v, at, join(&path, k)))
        }
        _ => None,
    };
    Some(inner.unwrap_or(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_places() {
        let text = "[client]\nskin = \"tan\"\n[[plan.zones]]\nname = \"crown\"\n[[plan.zones]]\nname = \"temples\"\nx = [1, {a = 2}]\n";
        let at = |s: &str| text.find(s).unwrap();
        assert_eq!(key_at(text, at("\"tan")).as_deref(), Some("client.skin"));
        assert_eq!(
            key_at(text, at("\"temples")).as_deref(),
            Some("plan.zones[1].name")
        );
        assert_eq!(
            key_at(text, at("2}")).as_deref(),
            Some("plan.zones[1].x[1].a")
        );
        assert_eq!(key_at(text, 0), None);
    }

    #[test]
    fn words_parse_once_or_say_what_was_expected() {
        let w: Word<Needle> = Word::try_from("0801".to_string()).unwrap();
        assert_eq!(w.get().points, 1);
        assert_eq!(w.as_str(), "0801");
        let e = Word::<Coverage>::try_from("most".to_string()).unwrap_err();
        assert!(e.contains("full-scalp") && e.contains("\"most\""), "{e}");
    }
}
