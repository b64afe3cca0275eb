//! Reading the files phone scanners write: Wavefront OBJ (+ MTL + texture), glTF 2.0 / GLB and
//! PLY (ASCII or binary, with vertex colours). Each reader returns a [`RawMesh`] in the file's
//! own units and axes; `obj::load_head` turns it into a head (welding, cleaning, head space).

use super::mesh::{AlbedoMap, NormalMap, srgb_to_linear};
use glam::{Mat3, Mat4, Vec2, Vec3, Vec4};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Which reader a file goes to: by its extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MeshFormat {
    Obj,
    /// glTF 2.0, binary (`.glb`) or JSON (`.gltf`) with its buffers and images beside it.
    Gltf,
    Ply,
}

impl MeshFormat {
    pub fn from_path(path: &Path) -> Option<MeshFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "obj" => Some(MeshFormat::Obj),
            "glb" | "gltf" => Some(MeshFormat::Gltf),
            "ply" => Some(MeshFormat::Ply),
            _ => None,
        }
    }

    /// The format's name and what a file of it holds, for errors.
    pub fn name(self) -> &'static str {
        match self {
            MeshFormat::Obj => "a Wavefront OBJ (expected a text OBJ file with `v` and `f` lines)",
            MeshFormat::Gltf => "glTF 2.0 (expected a .glb or a .gltf with its buffers)",
            MeshFormat::Ply => "a PLY (expected a vertex element with x, y, z and a face element)",
        }
    }

    /// Millimetres per file unit where the format fixes it: glTF is in metres by its
    /// specification (glTF 2.0, section 3.4 "Coordinate System and Units"); OBJ and PLY have
    /// no units.
    pub fn fixed_scale_to_mm(self) -> Option<f32> {
        (self == MeshFormat::Gltf).then_some(1000.0)
    }
}

/// A mesh as read, before cleaning: file units and axes.
#[derive(Debug, Default)]
pub struct RawMesh {
    pub positions: Vec<Vec3>,
    /// Three per triangle.
    pub indices: Vec<u32>,
    /// One per index (origin top-left), or empty.
    pub corner_uvs: Vec<Vec2>,
    /// Linear RGB, one per position, or empty.
    pub vertex_colors: Vec<Vec3>,
    pub albedo_map: Option<Arc<AlbedoMap>>,
    /// The tangent-space normal map, sampled at `corner_uvs`.
    pub normal_map: Option<Arc<NormalMap>>,
    /// The file's own tangents, one per index (file axes; see
    /// [`super::TriMesh::corner_tangents`]), or empty: computed after loading where needed.
    pub corner_tangents: Vec<Vec4>,
    /// Things the reader could not use, for the log.
    pub notes: Vec<String>,
}

/// Loading failed: the message says what was expected.
pub type FormatResult<T> = Result<T, String>;

fn decode_image(bytes: &[u8], what: &str) -> FormatResult<Arc<AlbedoMap>> {
    let image = image::load_from_memory(bytes)
        .map_err(|e| format!("cannot decode the colour texture {what}: {e}"))?;
    Ok(Arc::new(AlbedoMap {
        image: image.to_rgba8(),
    }))
}

fn decode_normal_map(bytes: &[u8], scale: f32, what: &str) -> FormatResult<Arc<NormalMap>> {
    let image = image::load_from_memory(bytes)
        .map_err(|e| format!("cannot decode the normal map {what}: {e}"))?;
    Ok(Arc::new(NormalMap {
        image: image.to_rgba8(),
        scale,
    }))
}

/// Whether an image holds tangent-space normals rather than heights: OBJ's `map_Bump` names
/// either. Normals point mostly out of the skin (blue well above half, red and green about
/// half); a height map is grey.
fn looks_like_normal_map(image: &image::RgbaImage) -> bool {
    let n = (image.width() as f64 * image.height() as f64).max(1.0);
    let mean = |c: usize| image.pixels().map(|p| p[c] as f64).sum::<f64>() / n;
    let (r, g, b) = (mean(0), mean(1), mean(2));
    b > 160.0 && (r - 127.5).abs() < 40.0 && (g - 127.5).abs() < 40.0
}

// ---------------------------------------------------------------------------------------------
// OBJ
// ---------------------------------------------------------------------------------------------

/// An OBJ file's contents; its MTL and textures are looked for in `dir`.
pub fn read_obj_bytes(bytes: &[u8], dir: &Path) -> FormatResult<RawMesh> {
    let options = tobj::LoadOptions {
        triangulate: true,
        // Separate position and texture indices: positions are welded later, corners keep
        // their own UVs.
        single_index: false,
        ignore_points: true,
        ignore_lines: true,
    };
    let (models, materials) =
        tobj::load_obj_buf(&mut std::io::Cursor::new(bytes), &options, |mtl| {
            tobj::load_mtl(dir.join(mtl))
        })
        .map_err(|e| e.to_string())?;
    let mut raw = RawMesh::default();
    let materials = match materials {
        Ok(m) => m,
        Err(e) => {
            raw.notes.push(format!(
                "its material library could not be read ({e}): no colours"
            ));
            Vec::new()
        }
    };
    // The texture of the first material that has one (scans carry one texture).
    let textured = models
        .iter()
        .filter_map(|m| m.mesh.material_id)
        .find_map(|id| materials.get(id)?.diffuse_texture.clone().map(|t| (id, t)));
    if let Some((_, file)) = &textured {
        let tex_path = dir.join(file.replace('\\', "/"));
        match std::fs::read(&tex_path) {
            Ok(bytes) => {
                raw.albedo_map = Some(decode_image(&bytes, &tex_path.display().to_string())?)
            }
            Err(e) => raw.notes.push(format!(
                "its texture {} could not be read ({e}): no texture",
                tex_path.display()
            )),
        }
    }
    // The normal map: MTL's `norm` (a normal map by definition) or `map_Bump`/`bump` where the
    // image holds normals (exporters such as Blender's write normal maps there), with
    // `-bm SCALE` as its scale.
    let normal = models
        .iter()
        .filter_map(|m| m.mesh.material_id)
        .find_map(|id| {
            let mat = materials.get(id)?;
            match mat.unknown_param.get("norm") {
                Some(spec) => Some((spec.clone(), true)),
                None => mat.normal_texture.clone().map(|spec| (spec, false)),
            }
        });
    if let Some((spec, is_normal_map)) = normal {
        let words: Vec<&str> = spec.split_whitespace().collect();
        let scale = words
            .iter()
            .position(|w| *w == "-bm")
            .and_then(|k| words.get(k + 1)?.parse::<f32>().ok())
            .filter(|s| s.is_finite())
            .unwrap_or(1.0);
        let file = words.last().copied().unwrap_or_default();
        let tex_path = dir.join(file.replace('\\', "/"));
        match std::fs::read(&tex_path) {
            Ok(bytes) => {
                let map = decode_normal_map(&bytes, scale, &tex_path.display().to_string())?;
                if is_normal_map || looks_like_normal_map(&map.image) {
                    raw.normal_map = Some(map);
                } else {
                    raw.notes.push(format!(
                        "its bump map {} holds heights, not normals: not used",
                        tex_path.display()
                    ));
                }
            }
            Err(e) => raw.notes.push(format!(
                "its normal map {} could not be read ({e}): not used",
                tex_path.display()
            )),
        }
    }
    let any_kd = models.iter().any(|m| {
        m.mesh
            .material_id
            .and_then(|id| materials.get(id)?.diffuse)
            .is_some()
    });
    let textured_id = textured.as_ref().map(|(id, _)| *id);
    for model in &models {
        let m = &model.mesh;
        let base = raw.positions.len() as u32;
        for c in m.positions.chunks_exact(3) {
            raw.positions.push(Vec3::new(c[0], c[1], c[2]));
        }
        // A material with a texture shows the texture (as viewers and scanners' own previews
        // do; Kd is often an exporter's 0.8 grey); one without shows its Kd.
        let material = m.material_id.and_then(|id| materials.get(id));
        let kd = if m.material_id.is_some() && m.material_id == textured_id {
            Vec3::ONE
        } else {
            material
                .and_then(|mat| mat.diffuse)
                .map_or(Vec3::ONE, |d| srgb_to_linear(Vec3::from_array(d)))
        };
        if any_kd || raw.albedo_map.is_some() {
            raw.vertex_colors
                .extend(std::iter::repeat_n(kd, m.positions.len() / 3));
        }
        raw.indices.extend(m.indices.iter().map(|&i| base + i));
        if raw.albedo_map.is_some() || raw.normal_map.is_some() {
            let has_uv = m.texcoord_indices.len() == m.indices.len() && !m.texcoords.is_empty();
            for k in 0..m.indices.len() {
                let uv = if has_uv {
                    let t = m.texcoord_indices[k] as usize;
                    let (u, v) = (
                        m.texcoords.get(2 * t).copied().unwrap_or(0.0),
                        m.texcoords.get(2 * t + 1).copied().unwrap_or(0.0),
                    );
                    // OBJ's v runs up from the bottom of the image.
                    Vec2::new(u, 1.0 - v)
                } else {
                    Vec2::ZERO
                };
                raw.corner_uvs.push(uv);
            }
        }
    }
    if raw.vertex_colors.iter().all(|c| *c == Vec3::ONE) {
        raw.vertex_colors.clear();
    }
    Ok(raw)
}

// ---------------------------------------------------------------------------------------------
// glTF 2.0
// ---------------------------------------------------------------------------------------------

/// Reads a `.glb` or `.gltf` from memory; `dir` resolves external buffers and images.
pub fn read_gltf_bytes(bytes: &[u8], dir: &Path) -> FormatResult<RawMesh> {
    check_accessor_references(bytes)?;
    let gltf = gltf::Gltf::from_slice(bytes).map_err(|e| e.to_string())?;
    let doc = &gltf.document;
    let mut buffers: Vec<Vec<u8>> = Vec::new();
    for buffer in doc.buffers() {
        let data = match buffer.source() {
            gltf::buffer::Source::Bin => gltf
                .blob
                .clone()
                .ok_or("the GLB has no binary chunk for its buffer")?,
            gltf::buffer::Source::Uri(uri) => read_uri(uri, dir)?,
        };
        buffers.push(data);
    }
    let mut raw = RawMesh::default();
    let mut texture: Option<usize> = None;
    let mut normal_texture: Option<(usize, f32)> = None;
    let mut any_colour = false;
    let scene = doc
        .default_scene()
        .or_else(|| doc.scenes().next())
        .ok_or("the file has no scene")?;
    let mut stack: Vec<(gltf::Node, Mat4)> = scene.nodes().map(|n| (n, Mat4::IDENTITY)).collect();
    while let Some((node, parent)) = stack.pop() {
        let world = parent * Mat4::from_cols_array_2d(&node.transform().matrix());
        stack.extend(node.children().map(|c| (c, world)));
        let Some(mesh) = node.mesh() else { continue };
        for prim in mesh.primitives() {
            if prim.mode() != gltf::mesh::Mode::Triangles {
                raw.notes.push(format!(
                    "a primitive drawn as {:?} was skipped",
                    prim.mode()
                ));
                continue;
            }
            let reader = prim.reader(|b| buffers.get(b.index()).map(|d| d.as_slice()));
            let Some(positions) = reader.read_positions() else {
                continue;
            };
            let base = raw.positions.len() as u32;
            raw.positions
                .extend(positions.map(|p| world.transform_point3(Vec3::from_array(p))));
            let count = raw.positions.len() as u32 - base;
            let mut indices: Vec<u32> = match reader.read_indices() {
                Some(i) => i.into_u32().collect(),
                None => (0..count).collect(),
            };
            // A mirroring node turns the triangles inside out; glTF 2.0 ("Transformations")
            // reverses their winding, which keeps each corner's tangent frame with its normal.
            let linear = Mat3::from_mat4(world);
            let mirrored = linear.determinant() < 0.0;
            if mirrored {
                for t in indices.chunks_exact_mut(3) {
                    t.swap(1, 2);
                }
            }
            let material = prim.material();
            let pbr = material.pbr_metallic_roughness();
            let factor = Vec3::from_slice(&pbr.base_color_factor()[..3]);
            let colours: Vec<Vec3> = match reader.read_colors(0) {
                Some(c) => c
                    .into_rgb_f32()
                    .map(|c| Vec3::from_array(c) * factor)
                    .collect(),
                None => vec![factor; count as usize],
            };
            any_colour |= colours.iter().any(|c| *c != Vec3::ONE);
            // Vertex colours are kept for every primitive; cleared below if all are white.
            raw.vertex_colors.extend(colours);
            let tex = pbr.base_color_texture();
            if let Some(info) = &tex {
                let index = info.texture().source().index();
                if texture.is_some_and(|t| t != index) {
                    raw.notes
                        .push("several colour textures: only the first is used".to_string());
                }
                texture.get_or_insert(index);
            }
            let normal_tex = material.normal_texture();
            if let Some(info) = &normal_tex {
                let index = info.texture().source().index();
                if normal_texture.is_some_and(|(t, _)| t != index) {
                    raw.notes
                        .push("several normal maps: only the first is used".to_string());
                }
                normal_texture.get_or_insert((index, info.scale()));
                if tex
                    .as_ref()
                    .is_some_and(|t| t.tex_coord() != info.tex_coord())
                {
                    raw.notes.push(
                        "its normal map uses other texture coordinates than its colour \
                         texture: it is read with the colour texture's"
                            .to_string(),
                    );
                }
            }
            let set = tex
                .as_ref()
                .map(|t| t.tex_coord())
                .or(normal_tex.as_ref().map(|t| t.tex_coord()));
            let uvs: Option<Vec<Vec2>> = set.and_then(|set| {
                reader
                    .read_tex_coords(set)
                    .map(|t| t.into_f32().map(Vec2::from_array).collect())
            });
            // The file's tangents, into the world as directions (w follows a mirror).
            let tangents: Option<Vec<Vec4>> = normal_tex.as_ref().and_then(|_| {
                let sign = if mirrored { -1.0 } else { 1.0 };
                reader.read_tangents().map(|t| {
                    t.map(|t| {
                        let xyz = (linear * Vec3::new(t[0], t[1], t[2])).normalize_or(Vec3::X);
                        xyz.extend(if t[3] < 0.0 { -sign } else { sign })
                    })
                    .collect()
                })
            });
            for &i in &indices {
                let t = tangents
                    .as_ref()
                    .and_then(|t| t.get(i as usize).copied())
                    .unwrap_or(Vec4::ZERO);
                raw.corner_tangents.push(t);
            }
            // Corner UVs for every primitive (zero where it has none); dropped below when no
            // primitive has a texture.
            for &i in &indices {
                let uv = uvs
                    .as_ref()
                    .and_then(|u| u.get(i as usize).copied())
                    .unwrap_or(Vec2::ZERO);
                raw.corner_uvs.push(uv);
            }
            raw.indices.extend(indices.iter().map(|&i| base + i));
        }
    }
    let image_bytes = |index: usize| -> FormatResult<Vec<u8>> {
        let image = doc.images().nth(index).ok_or("a texture names no image")?;
        Ok(match image.source() {
            gltf::image::Source::View { view, .. } => {
                let data = buffers
                    .get(view.buffer().index())
                    .ok_or("an image's buffer is missing")?;
                data.get(view.offset()..view.offset() + view.length())
                    .ok_or("an image's buffer view runs past its buffer")?
                    .to_vec()
            }
            gltf::image::Source::Uri { uri, .. } => read_uri(uri, dir)?,
        })
    };
    if let Some(index) = texture {
        raw.albedo_map = Some(decode_image(&image_bytes(index)?, "embedded in the glTF")?);
    }
    if let Some((index, scale)) = normal_texture {
        raw.normal_map = Some(decode_normal_map(
            &image_bytes(index)?,
            scale,
            "embedded in the glTF",
        )?);
    }
    if texture.is_none() && normal_texture.is_none() {
        raw.corner_uvs.clear();
    }
    // Tangents only where every corner has the file's own (else all are computed).
    if raw.normal_map.is_none() || raw.corner_tangents.contains(&Vec4::ZERO) {
        raw.corner_tangents.clear();
    }
    if !any_colour {
        raw.vertex_colors.clear();
    }
    Ok(raw)
}

/// gltf-json 1.4's validation indexes a primitive's accessors before checking that they exist,
/// and panics on a file that names one it lacks (found by tests/fuzz.rs): check them first.
fn check_accessor_references(bytes: &[u8]) -> FormatResult<()> {
    let unchecked = gltf::Gltf::from_slice_without_validation(bytes).map_err(|e| e.to_string())?;
    let root = unchecked.document.as_json();
    let count = root.accessors.len();
    for (m, mesh) in root.meshes.iter().enumerate() {
        for (p, prim) in mesh.primitives.iter().enumerate() {
            let attributes = prim.attributes.values().map(|i| i.value());
            if let Some(i) = attributes
                .chain(prim.indices.map(|i| i.value()))
                .find(|&i| i >= count)
            {
                return Err(format!(
                    "mesh {m} primitive {p} refers to accessor {i}, but the file has {count}"
                ));
            }
        }
    }
    // gltf 1.4's `Image::source` unwraps an image's URI, or its MIME type when it lies in a
    // buffer view, which validation lets through.
    for (i, image) in root.images.iter().enumerate() {
        let ok = match &image.buffer_view {
            Some(view) => view.value() < root.buffer_views.len() && image.mime_type.is_some(),
            None => image.uri.is_some(),
        };
        if !ok {
            return Err(format!(
                "image {i} has neither a URI nor a buffer view with a MIME type"
            ));
        }
    }
    Ok(())
}

fn read_uri(uri: &str, dir: &Path) -> FormatResult<Vec<u8>> {
    if let Some(data) = uri.strip_prefix("data:") {
        return read_data_uri(data);
    }
    let path: PathBuf = dir.join(uri.replace("%20", " "));
    std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// A buffer or image embedded in a `.gltf` (RFC 2397 `data:` URI, after the scheme); glTF
/// 2.0 embeds them base64-encoded ("URIs").
fn read_data_uri(data: &str) -> FormatResult<Vec<u8>> {
    use base64::Engine as _;
    let (media, payload) = data
        .split_once(',')
        .ok_or("a data: URI has no ',' before its data")?;
    if !media.ends_with(";base64") {
        return Err(format!(
            "a data: URI ({}) is not base64-encoded, as glTF 2.0 requires (expected \
             data:<type>;base64,<data>)",
            if media.is_empty() { "no type" } else { media }
        ));
    }
    base64::engine::general_purpose::STANDARD
        .decode(payload.trim())
        .map_err(|e| format!("a data: URI's base64 is broken ({e})"))
}

// ---------------------------------------------------------------------------------------------
// PLY
// ---------------------------------------------------------------------------------------------

/// A PLY file's contents (ascii or binary).
pub fn read_ply_bytes(bytes: &[u8]) -> FormatResult<RawMesh> {
    use ply_rs_bw::ply::Property;
    let mut reader = std::io::Cursor::new(bytes);
    let ply = ply_rs_bw::parser::Parser::<ply_rs_bw::ply::DefaultElement>::new()
        .read_ply(&mut reader)
        .map_err(|e| e.to_string())?;
    let scalar = |p: &Property| -> Option<f64> {
        Some(match p {
            Property::Char(v) => *v as f64,
            Property::UChar(v) => *v as f64,
            Property::Short(v) => *v as f64,
            Property::UShort(v) => *v as f64,
            Property::Int(v) => *v as f64,
            Property::UInt(v) => *v as f64,
            Property::Float(v) => *v as f64,
            Property::Double(v) => *v,
            _ => return None,
        })
    };
    let mut raw = RawMesh::default();
    let vertices = ply
        .payload
        .get("vertex")
        .ok_or("no `element vertex` in the header")?;
    let mut colours = Vec::new();
    for v in vertices {
        let get = |k: &str| v.get(k).and_then(scalar);
        let (Some(x), Some(y), Some(z)) = (get("x"), get("y"), get("z")) else {
            return Err("a vertex lacks an x, y or z property".into());
        };
        raw.positions.push(Vec3::new(x as f32, y as f32, z as f32));
        let channel = |names: [&str; 2]| {
            names.iter().find_map(|n| {
                let p = v.get(*n)?;
                let x = scalar(p)?;
                // Integer colours are 0-255; float colours 0-1.
                Some(match p {
                    Property::Float(_) | Property::Double(_) => x as f32,
                    _ => x as f32 / 255.0,
                })
            })
        };
        if let (Some(r), Some(g), Some(b)) = (
            channel(["red", "r"]),
            channel(["green", "g"]),
            channel(["blue", "b"]),
        ) {
            colours.push(srgb_to_linear(
                Vec3::new(r, g, b).clamp(Vec3::ZERO, Vec3::ONE),
            ));
        }
    }
    if colours.len() == raw.positions.len() {
        raw.vertex_colors = colours;
    }
    let faces = ply.payload.get("face").map(|f| f.as_slice()).unwrap_or(&[]);
    for f in faces {
        let list = f
            .get("vertex_indices")
            .or_else(|| f.get("vertex_index"))
            .ok_or("a face lacks a vertex_indices list")?;
        let idx: Vec<u32> = match list {
            Property::ListChar(l) => l.iter().map(|&i| i as u32).collect(),
            Property::ListUChar(l) => l.iter().map(|&i| i as u32).collect(),
            Property::ListShort(l) => l.iter().map(|&i| i as u32).collect(),
            Property::ListUShort(l) => l.iter().map(|&i| i as u32).collect(),
            Property::ListInt(l) => l.iter().map(|&i| i as u32).collect(),
            Property::ListUInt(l) => l.clone(),
            _ => return Err("vertex_indices is not a list of integers".into()),
        };
        // Polygons as fans.
        for k in 1..idx.len().saturating_sub(1) {
            raw.indices.extend_from_slice(&[idx[0], idx[k], idx[k + 1]]);
        }
    }
    Ok(raw)
}
