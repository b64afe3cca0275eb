//! The named views a scene asks for, and the defaults of the render keys that the renderer
//! shares. Plain data: the renderer imports these, never the reverse.

/// Default pigment map resolution (`render.pigment_map_size`, texels per 200 mm of skin):
/// 0.2 mm texels.
pub const DEFAULT_PIGMENT_MAP_SIZE: u32 = 1024;

/// Named camera positions. Left and right are the client's own sides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ViewName {
    Front,
    Left,
    Right,
    Back,
    Top,
    /// Three-quarter view from the client's front left.
    FrontLeft,
    /// Three-quarter view from the client's front right.
    FrontRight,
    /// Close-up of the front hairline, near enough to see single dots.
    HairlineCloseup,
    /// Orthographic macro view straight down onto the treated scalp behind the hairline, a
    /// given width of skin across (`render.macro_width_mm`, default [`DEFAULT_MACRO_WIDTH_MM`]).
    Macro,
}

/// Width of skin (mm) across a macro view unless the scene says otherwise.
pub const DEFAULT_MACRO_WIDTH_MM: f32 = 10.0;

impl ViewName {
    pub const ALL: [ViewName; 9] = [
        ViewName::Front,
        ViewName::Left,
        ViewName::Right,
        ViewName::Back,
        ViewName::Top,
        ViewName::FrontLeft,
        ViewName::FrontRight,
        ViewName::HairlineCloseup,
        ViewName::Macro,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ViewName::Front => "front",
            ViewName::Left => "left",
            ViewName::Right => "right",
            ViewName::Back => "back",
            ViewName::Top => "top",
            ViewName::FrontLeft => "front-left",
            ViewName::FrontRight => "front-right",
            ViewName::HairlineCloseup => "hairline-closeup",
            ViewName::Macro => "macro",
        }
    }
}
