//! Heads built into Stipple: the procedural mannequin and a textured photoscan.

use super::Head;
use super::obj::{HeadError, LandmarkOverrides, ObjImport};
use std::path::Path;

/// The names `[client.head] builtin` takes.
pub const NAMES: [&str; 2] = ["procedural", "lee-perry-smith"];

/// "Infinite, 3D Head Scan" by Lee Perry-Smith, CC BY 3.0 (assets/heads/lee-perry-smith/
/// NOTICE.md): head, neck and shoulders, shaved scalp, with its colour texture. Binary glTF,
/// metres, +Y up, face +Z.
const LEE_PERRY_SMITH_GLB: &[u8] =
    include_bytes!("../../assets/heads/lee-perry-smith/LeePerrySmith.glb");

/// The built-in photoscan as a head, landmarks estimated.
pub fn lee_perry_smith() -> Result<Head, HeadError> {
    lee_perry_smith_with(&LandmarkOverrides::default())
}

/// The built-in photoscan with the landmarks `given` (head space: mm, +Y up, face +Z; the
/// scan is +Y up already, so head space is the file's axes in mm) and the rest estimated.
pub fn lee_perry_smith_with(given: &LandmarkOverrides) -> Result<Head, HeadError> {
    const SCALE_TO_MM: f32 = 1000.0;
    let import = ObjImport {
        scale_to_mm: SCALE_TO_MM,
        landmarks: given.map(|p| p / SCALE_TO_MM),
        ..ObjImport::new("<built-in head lee-perry-smith>/LeePerrySmith.glb")
    };
    let raw =
        super::formats::read_gltf_bytes(LEE_PERRY_SMITH_GLB, Path::new("")).map_err(|message| {
            HeadError::Parse {
                path: import.path.clone(),
                format: super::formats::MeshFormat::Gltf.name(),
                message,
            }
        })?;
    super::obj::head_from_raw(raw, &import)
}
