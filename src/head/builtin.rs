//! Heads built into Stipple: the procedural mannequin and a textured photoscan.

use super::Head;
use super::obj::{HeadError, ObjImport};
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
    let import = ObjImport {
        scale_to_mm: 1000.0,
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
