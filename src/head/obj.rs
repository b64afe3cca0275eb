//! Heads loaded from Wavefront OBJ files through tobj, and heads written back as OBJ.
//!
//! Loading welds the mesh by position (UV seams and duplicated corners would otherwise crack the
//! scalp and its normals), drops degenerate triangles, converts to head space (mm, +Y up, +Z
//! forward, +X the client's left), winds every triangle counter-clockwise seen from outside, and
//! recomputes smooth normals. Landmarks come from the caller where given and are otherwise
//! estimated from the geometry (see [`estimate_landmarks`]).

use super::formats::{self, MeshFormat};
use super::{Head, Landmarks, TriMesh};
use glam::{Vec2, Vec3, Vec4};
use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Which file axis points up, and with it which way the face looks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UpAxis {
    /// +Y up, the face toward +Z (three.js, most scanners and OBJ exports): kept as is.
    #[default]
    Y,
    /// +Z up, the face toward −Y (Blender's convention: its front view looks along +Y).
    /// File (x, y, z) becomes head (x, z, −y), so file +X stays the client's left.
    Z,
}

impl UpAxis {
    fn to_head(self, p: Vec3) -> Vec3 {
        match self {
            UpAxis::Y => p,
            UpAxis::Z => Vec3::new(p.x, p.z, -p.y),
        }
    }
}

/// Where to read a head from and how to interpret the file.
#[derive(Clone, Debug, PartialEq)]
pub struct ObjImport {
    pub path: PathBuf,
    /// Millimetres per file unit (1 for files in mm, 10 for cm, 1000 for m).
    pub scale_to_mm: f32,
    pub up: UpAxis,
    /// Landmarks placed by hand; the rest are estimated.
    pub landmarks: LandmarkOverrides,
}

impl ObjImport {
    /// A file in millimetres, +Y up, with every landmark estimated.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            scale_to_mm: 1.0,
            up: UpAxis::Y,
            landmarks: LandmarkOverrides::default(),
        }
    }
}

/// Landmarks given by hand, in the FILE's units and axes (as read off the model in a modelling
/// tool); `None` means estimate it. Field meanings are those of [`Landmarks`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LandmarkOverrides {
    pub glabella: Option<Vec3>,
    pub outer_eye_corner_left: Option<Vec3>,
    pub outer_eye_corner_right: Option<Vec3>,
    pub top_of_head: Option<Vec3>,
    pub occiput: Option<Vec3>,
    pub ear_left: Option<Vec3>,
    pub ear_right: Option<Vec3>,
}

impl LandmarkOverrides {
    pub fn named(&self) -> [(&'static str, Option<Vec3>); 7] {
        [
            ("glabella", self.glabella),
            ("outer_eye_corner_left", self.outer_eye_corner_left),
            ("outer_eye_corner_right", self.outer_eye_corner_right),
            ("top_of_head", self.top_of_head),
            ("occiput", self.occiput),
            ("ear_left", self.ear_left),
            ("ear_right", self.ear_right),
        ]
    }

    /// `estimated` with the given landmarks put in place (head space both).
    pub fn apply(&self, estimated: &Landmarks) -> Landmarks {
        Landmarks {
            glabella: self.glabella.unwrap_or(estimated.glabella),
            outer_eye_corner_left: self
                .outer_eye_corner_left
                .unwrap_or(estimated.outer_eye_corner_left),
            outer_eye_corner_right: self
                .outer_eye_corner_right
                .unwrap_or(estimated.outer_eye_corner_right),
            top_of_head: self.top_of_head.unwrap_or(estimated.top_of_head),
            occiput: self.occiput.unwrap_or(estimated.occiput),
            ear_left: self.ear_left.unwrap_or(estimated.ear_left),
            ear_right: self.ear_right.unwrap_or(estimated.ear_right),
        }
    }

    pub fn map(&self, f: impl Fn(Vec3) -> Vec3) -> LandmarkOverrides {
        LandmarkOverrides {
            glabella: self.glabella.map(&f),
            outer_eye_corner_left: self.outer_eye_corner_left.map(&f),
            outer_eye_corner_right: self.outer_eye_corner_right.map(&f),
            top_of_head: self.top_of_head.map(&f),
            occiput: self.occiput.map(&f),
            ear_left: self.ear_left.map(&f),
            ear_right: self.ear_right.map(&f),
        }
    }
}

/// Largest coordinate (mm, after scaling) a head mesh may have: a kilometre.
pub const MAX_COORDINATE_MM: f32 = 1e6;

#[derive(Debug, thiserror::Error)]
pub enum HeadError {
    /// An empty path, a folder, a device, a file over the size limit.
    #[error("head mesh: {0}")]
    Input(crate::input::InputError),
    #[error("cannot open head mesh {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "cannot parse head mesh {} as {format}: {message}",
        path.display()
    )]
    Parse {
        path: PathBuf,
        /// The format and what a file of it holds.
        format: &'static str,
        message: String,
    },
    #[error(
        "head mesh {} has no triangles (expected a surface mesh with `f` faces of 3 or more \
         vertices)",
        path.display()
    )]
    NoTriangles { path: PathBuf },
    #[error(
        "head mesh {}: a vertex has a non-finite coordinate {position:?} (expected finite numbers)",
        path.display()
    )]
    NonFinite { path: PathBuf, position: [f32; 3] },
    #[error(
        "head mesh {}: a vertex lies at {position:?} mm after scaling (expected coordinates \
         within {MAX_COORDINATE_MM} mm of the origin: is scale_to_mm right?)",
        path.display()
    )]
    OutOfRange { path: PathBuf, position: [f32; 3] },
    #[error(
        "head mesh {}: scale_to_mm must be a positive, finite number of millimetres per file \
         unit, got {scale}",
        path.display()
    )]
    BadScale { path: PathBuf, scale: f32 },
    #[error(
        "head mesh {}: landmark override `{name}` is not finite: {value:?}",
        path.display()
    )]
    BadLandmark {
        path: PathBuf,
        name: &'static str,
        value: [f32; 3],
    },
}

/// Loads an OBJ file (all its objects together) as a head: [`load_head`], kept for callers
/// that name the format.
pub fn load_obj(import: &ObjImport) -> Result<Head, HeadError> {
    load_head(import)
}

/// Loads a head scan: OBJ (+ MTL + texture), glTF 2.0 / GLB or PLY, by the file's extension
/// (an unknown extension is read as OBJ, as before other formats were read). At most
/// [`crate::input::MAX_MESH_BYTES`] are read.
pub fn load_head(import: &ObjImport) -> Result<Head, HeadError> {
    let path = &import.path;
    let bytes = crate::input::read_limited(path, crate::input::MAX_MESH_BYTES, "head mesh")
        .map_err(|e| match e {
            crate::input::InputError::Io { error, .. } => HeadError::Io {
                path: path.clone(),
                source: error,
            },
            other => HeadError::Input(other),
        })?;
    load_head_bytes(&bytes, import)
}

/// A head file's contents (format by `import.path`'s extension); `import.path` names it in
/// errors, and its folder is where an OBJ's MTL and textures or a glTF's buffers are found.
pub fn load_head_bytes(bytes: &[u8], import: &ObjImport) -> Result<Head, HeadError> {
    let path = &import.path;
    let format = MeshFormat::from_path(path).unwrap_or(MeshFormat::Obj);
    let dir = path.parent().unwrap_or(Path::new(""));
    let raw = match format {
        MeshFormat::Obj => formats::read_obj_bytes(bytes, dir),
        MeshFormat::Ply => formats::read_ply_bytes(bytes),
        MeshFormat::Gltf => formats::read_gltf_bytes(bytes, dir),
    }
    .map_err(|message| HeadError::Parse {
        path: path.clone(),
        format: format.name(),
        message,
    })?;
    head_from_raw(raw, import)
}

/// An OBJ file's contents as a head (the fuzz tests' entry point).
pub fn load_obj_bytes(bytes: &[u8], import: &ObjImport) -> Result<Head, HeadError> {
    let path = &import.path;
    let dir = path.parent().unwrap_or(Path::new(""));
    let raw = formats::read_obj_bytes(bytes, dir).map_err(|message| HeadError::Parse {
        path: path.clone(),
        format: MeshFormat::Obj.name(),
        message,
    })?;
    head_from_raw(raw, import)
}

/// Turns a mesh as read into a head: checks, head space, cleaning, landmarks.
pub fn head_from_raw(raw: formats::RawMesh, import: &ObjImport) -> Result<Head, HeadError> {
    let path = &import.path;
    if !(import.scale_to_mm.is_finite() && import.scale_to_mm > 0.0) {
        return Err(HeadError::BadScale {
            path: path.clone(),
            scale: import.scale_to_mm,
        });
    }
    for (name, v) in import.landmarks.named() {
        if let Some(v) = v.filter(|v| !v.is_finite()) {
            return Err(HeadError::BadLandmark {
                path: path.clone(),
                name,
                value: v.to_array(),
            });
        }
    }
    for note in &raw.notes {
        log::warn!("head mesh {}: {note}", path.display());
    }
    if let Some(p) = raw.positions.iter().find(|p| !p.is_finite()) {
        return Err(HeadError::NonFinite {
            path: path.clone(),
            position: p.to_array(),
        });
    }
    let formats::RawMesh {
        positions,
        indices,
        corner_uvs,
        vertex_colors,
        albedo_map,
        normal_map,
        corner_tangents,
        ..
    } = raw;
    // Tangents are directions: rotated into head space, never scaled.
    let corner_tangents: Vec<Vec4> = corner_tangents
        .into_iter()
        .map(|t| import.up.to_head(t.truncate()).extend(t.w))
        .collect();
    let positions: Vec<Vec3> = positions
        .into_iter()
        .map(|p| import.up.to_head(p * import.scale_to_mm))
        .collect();
    // A kilometre is no head: beyond it, areas and normals overflow f32 and the mesh would
    // seem to have no triangles at all.
    if let Some(p) = positions
        .iter()
        .find(|p| !(p.is_finite() && p.abs().max_element() <= MAX_COORDINATE_MM))
    {
        return Err(HeadError::OutOfRange {
            path: path.clone(),
            position: p.to_array(),
        });
    }

    let mut mesh = clean_mesh(
        positions,
        indices,
        corner_uvs,
        corner_tangents,
        vertex_colors,
    );
    if mesh.indices.is_empty() {
        return Err(HeadError::NoTriangles { path: path.clone() });
    }
    if mesh.corner_uvs.len() == mesh.indices.len() {
        mesh.albedo_map = albedo_map;
        mesh.normal_map = normal_map;
    } else {
        mesh.corner_uvs.clear();
    }
    if mesh.normal_map.is_none() {
        mesh.corner_tangents.clear();
    }
    if let Some(dropped) = keep_largest_piece(&mut mesh) {
        log::warn!("head mesh {}: {dropped}", path.display());
    }
    if let Some(note) = open_edges_note(&mesh.indices) {
        log::warn!("head mesh {}: {note}", path.display());
    }
    orient_outward(&mut mesh);
    mesh.recompute_normals();
    mesh.ensure_tints();
    if mesh.normal_map.is_some() && mesh.corner_tangents.len() != mesh.indices.len() {
        mesh.compute_tangents();
    }

    let (lo, hi) = mesh.bounds();
    let size = hi - lo;
    if !(100.0..=2000.0).contains(&size.y) {
        log::warn!(
            "head mesh {} is {:.0} mm tall after scaling by {} mm per unit; is scale_to_mm right?",
            path.display(),
            size.y,
            import.scale_to_mm
        );
    }

    let given = import
        .landmarks
        .map(|p| import.up.to_head(p * import.scale_to_mm));
    let landmarks = estimate_landmarks(&mesh, &given);
    let estimated: Vec<&str> = given
        .named()
        .iter()
        .filter(|(_, v)| v.is_none())
        .map(|(n, _)| *n)
        .collect();
    if !estimated.is_empty() {
        log::info!(
            "head mesh {}: estimated landmarks {} from the geometry",
            path.display(),
            estimated.join(", ")
        );
        for (name, p) in landmarks.named() {
            if estimated.contains(&name) {
                log::info!("  {name}: ({:.1}, {:.1}, {:.1}) mm", p.x, p.y, p.z);
            }
        }
    }
    Ok(Head { mesh, landmarks })
}

/// Writes a head as OBJ: positions and normals in head space, one-based triangle faces.
pub fn write_obj(head: &Head, path: &Path) -> std::io::Result<()> {
    let mesh = &head.mesh;
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(w, "# stipple head mesh")?;
    writeln!(
        w,
        "# units: mm; axes: +Y up, +Z forward (out of the face), +X the client's left"
    )?;
    writeln!(
        w,
        "# {} vertices, {} triangles",
        mesh.positions_mm.len(),
        mesh.triangle_count()
    )?;
    for (name, p) in head.landmarks.named() {
        writeln!(w, "# landmark {name} {} {} {}", p.x, p.y, p.z)?;
    }
    for p in &mesh.positions_mm {
        writeln!(w, "v {} {} {}", p.x, p.y, p.z)?;
    }
    let has_normals = mesh.normals.len() == mesh.positions_mm.len();
    if has_normals {
        for n in &mesh.normals {
            writeln!(w, "vn {} {} {}", n.x, n.y, n.z)?;
        }
    }
    for t in mesh.indices.chunks_exact(3) {
        let [a, b, c] = [t[0] + 1, t[1] + 1, t[2] + 1];
        if has_normals {
            writeln!(w, "f {a}//{a} {b}//{b} {c}//{c}")?;
        } else {
            writeln!(w, "f {a} {b} {c}")?;
        }
    }
    w.flush()
}

// ---------------------------------------------------------------------------------------------
// Cleaning.
// ---------------------------------------------------------------------------------------------

/// Welds coincident positions, drops degenerate triangles and unused vertices. Corner UVs and
/// tangents (parallel to `indices`, or empty) stay with their corners; vertex colours (per
/// position, or empty) are averaged over the vertices welded together.
fn clean_mesh(
    positions: Vec<Vec3>,
    indices: Vec<u32>,
    corner_uvs: Vec<Vec2>,
    corner_tangents: Vec<Vec4>,
    vertex_colors: Vec<Vec3>,
) -> TriMesh {
    let n = positions.len() as u32;
    let has_uvs = corner_uvs.len() == indices.len();
    let has_tangents = corner_tangents.len() == indices.len();
    let has_colours = vertex_colors.len() == positions.len();
    let mut uvs_in = Vec::new();
    let mut tangents_in = Vec::new();
    let indices: Vec<u32> = indices
        .chunks_exact(3)
        .enumerate()
        .filter(|(_, t)| t.iter().all(|&i| i < n))
        .flat_map(|(k, t)| {
            if has_uvs {
                uvs_in.extend_from_slice(&corner_uvs[3 * k..3 * k + 3]);
            }
            if has_tangents {
                tangents_in.extend_from_slice(&corner_tangents[3 * k..3 * k + 3]);
            }
            t.iter().copied()
        })
        .collect();
    let remap = weld(&positions);

    // Degenerate: two corners welded together, or (numerically) no area.
    let mut kept = Vec::with_capacity(indices.len());
    let mut kept_uvs = Vec::new();
    let mut kept_tangents = Vec::new();
    for (k, t) in indices.chunks_exact(3).enumerate() {
        let [a, b, c] = [t[0], t[1], t[2]].map(|i| remap[i as usize]);
        if a == b || b == c || a == c {
            continue;
        }
        let [pa, pb, pc] = [a, b, c].map(|i| positions[i as usize]);
        let cross = (pb - pa).cross(pc - pa).length();
        let longest = (pb - pa)
            .length_squared()
            .max((pc - pa).length_squared())
            .max((pc - pb).length_squared());
        if cross <= 1e-7 * longest {
            continue;
        }
        kept.extend_from_slice(&[a, b, c]);
        if has_uvs {
            kept_uvs.extend_from_slice(&uvs_in[3 * k..3 * k + 3]);
        }
        if has_tangents {
            kept_tangents.extend_from_slice(&tangents_in[3 * k..3 * k + 3]);
        }
    }

    // Compact to the vertices a triangle uses, keeping their order.
    let mut used = vec![false; positions.len()];
    for &i in &kept {
        used[i as usize] = true;
    }
    let mut new_index = vec![u32::MAX; positions.len()];
    let mut out = TriMesh::default();
    for (i, p) in positions.iter().enumerate().filter(|(i, _)| used[*i]) {
        new_index[i] = out.positions_mm.len() as u32;
        out.positions_mm.push(*p);
    }
    if has_colours {
        let mut sum = vec![(Vec3::ZERO, 0.0f32); out.positions_mm.len()];
        for (i, c) in vertex_colors.iter().enumerate() {
            let j = new_index[remap[i] as usize];
            if j != u32::MAX {
                sum[j as usize].0 += *c;
                sum[j as usize].1 += 1.0;
            }
        }
        out.vertex_colors = sum.into_iter().map(|(c, k)| c / k.max(1.0)).collect();
    }
    out.indices = kept.into_iter().map(|i| new_index[i as usize]).collect();
    out.corner_uvs = kept_uvs;
    out.corner_tangents = kept_tangents;
    out
}

/// Share of edges bordering a single triangle above which faces are likely missing. A scan
/// is open only at its rim (neck, holes): a few percent of its edges. A mesh of which every
/// other triangle is missing (polygons read as their first triangle) has most of its edges
/// open, yet stays one piece, so the largest-piece rule keeps it whole.
const MAX_OPEN_EDGE_SHARE: f32 = 0.25;

/// A warning when so many edges border one triangle only that the surface is more hole than
/// skin; None for a surface with a rim and a few holes.
fn open_edges_note(indices: &[u32]) -> Option<String> {
    let mut uses: HashMap<(u32, u32), u32> = HashMap::with_capacity(indices.len());
    for t in indices.chunks_exact(3) {
        for (a, b) in [(t[0], t[1]), (t[1], t[2]), (t[2], t[0])] {
            *uses.entry((a.min(b), a.max(b))).or_default() += 1;
        }
    }
    let open = uses.values().filter(|&&n| n == 1).count();
    let share = open as f32 / uses.len().max(1) as f32;
    (share > MAX_OPEN_EDGE_SHARE).then(|| {
        format!(
            "{:.0}% of its edges border a single triangle: faces are likely missing (polygons \
             read as triangles, or a surface saved as loose triangles), and it will render with \
             holes",
            100.0 * share
        )
    })
}

/// Keeps the connected piece with the most surface (the head of a scan, with its neck and
/// shoulders) and drops the rest: floating islands of scanner noise, a separate base, eyes
/// modelled apart. Returns what was dropped, for the log, or None when the mesh is one piece.
fn keep_largest_piece(mesh: &mut TriMesh) -> Option<String> {
    let n = mesh.positions_mm.len();
    let mut parent: Vec<u32> = (0..n as u32).collect();
    fn find(parent: &mut [u32], mut i: u32) -> u32 {
        while parent[i as usize] != i {
            parent[i as usize] = parent[parent[i as usize] as usize];
            i = parent[i as usize];
        }
        i
    }
    for t in mesh.indices.chunks_exact(3) {
        for k in 1..3 {
            let (a, b) = (find(&mut parent, t[0]), find(&mut parent, t[k]));
            if a != b {
                parent[a as usize] = b;
            }
        }
    }
    let mut area: HashMap<u32, (f64, usize)> = HashMap::new();
    for t in 0..mesh.triangle_count() {
        let root = find(&mut parent, mesh.indices[3 * t]);
        let e = area.entry(root).or_default();
        e.0 += mesh.triangle_area_mm2(t) as f64;
        e.1 += 1;
    }
    if area.len() <= 1 {
        return None;
    }
    let (&keep, &(kept_area, _)) = area
        .iter()
        .max_by(|a, b| a.1.0.total_cmp(&b.1.0))
        .expect("non-empty");
    let dropped: Vec<(f64, usize)> = area
        .iter()
        .filter(|(r, _)| **r != keep)
        .map(|(_, v)| *v)
        .collect();
    let keep_tri: Vec<bool> = (0..mesh.triangle_count())
        .map(|t| find(&mut parent, mesh.indices[3 * t]) == keep)
        .collect();
    let has_uvs = mesh.corner_uvs.len() == mesh.indices.len();
    let has_tangents = mesh.corner_tangents.len() == mesh.indices.len();
    let mut indices = Vec::new();
    let mut uvs = Vec::new();
    let mut tangents = Vec::new();
    for (t, _) in keep_tri.iter().enumerate().filter(|(_, k)| **k) {
        indices.extend_from_slice(&mesh.indices[3 * t..3 * t + 3]);
        if has_uvs {
            uvs.extend_from_slice(&mesh.corner_uvs[3 * t..3 * t + 3]);
        }
        if has_tangents {
            tangents.extend_from_slice(&mesh.corner_tangents[3 * t..3 * t + 3]);
        }
    }
    // Compact the vertices.
    let mut new_index = vec![u32::MAX; n];
    let mut positions = Vec::new();
    let mut colours = Vec::new();
    let has_colours = mesh.vertex_colors.len() == n;
    for &i in &indices {
        if new_index[i as usize] == u32::MAX {
            new_index[i as usize] = positions.len() as u32;
            positions.push(mesh.positions_mm[i as usize]);
            if has_colours {
                colours.push(mesh.vertex_colors[i as usize]);
            }
        }
    }
    mesh.indices = indices.iter().map(|&i| new_index[i as usize]).collect();
    mesh.positions_mm = positions;
    mesh.vertex_colors = colours;
    mesh.corner_uvs = uvs;
    mesh.corner_tangents = tangents;
    mesh.normals.clear();
    mesh.albedo_tint.clear();
    let (tris, area_mm2) = dropped
        .iter()
        .fold((0, 0.0), |(n, a), (da, dn)| (n + dn, a + da));
    Some(format!(
        "kept the largest connected piece ({:.0} cm²) and dropped {} other piece(s): {} \
         triangles, {:.1} cm²",
        kept_area / 100.0,
        dropped.len(),
        tris,
        area_mm2 / 100.0
    ))
}

/// For every vertex, the first vertex at (practically) the same position. The tolerance is
/// 1e-5 of the bounding-box diagonal: far below any real feature, above float noise.
fn weld(positions: &[Vec3]) -> Vec<u32> {
    let (lo, hi) = positions.iter().fold(
        (Vec3::splat(f32::INFINITY), Vec3::splat(f32::NEG_INFINITY)),
        |(lo, hi), p| (lo.min(*p), hi.max(*p)),
    );
    let tol = ((hi - lo).length() * 1e-5).max(f32::MIN_POSITIVE);
    // Cells four tolerances wide: a point only needs the neighbouring cell on an axis where it
    // lies within `tol` of the cell's edge.
    let cell = 4.0 * tol;
    let mut grid: HashMap<[i64; 3], Vec<u32>> = HashMap::with_capacity(positions.len());
    let mut remap = Vec::with_capacity(positions.len());
    for (i, p) in positions.iter().enumerate() {
        let g = (*p - lo) / cell;
        let c = [g.x, g.y, g.z].map(|v| v.floor() as i64);
        let frac = [g.x, g.y, g.z].map(|v| v - v.floor());
        let range = |k: usize| {
            let lo = if frac[k] * cell < tol { -1 } else { 0 };
            let hi = if (1.0 - frac[k]) * cell < tol { 1 } else { 0 };
            lo..=hi
        };
        let mut found = None;
        'search: for dx in range(0) {
            for dy in range(1) {
                for dz in range(2) {
                    let near = |&&j: &&u32| positions[j as usize].distance_squared(*p) <= tol * tol;
                    if let Some(list) = grid.get(&[c[0] + dx, c[1] + dy, c[2] + dz])
                        && let Some(&j) = list.iter().find(near)
                    {
                        found = Some(j);
                        break 'search;
                    }
                }
            }
        }
        match found {
            Some(j) => remap.push(j),
            None => {
                grid.entry(c).or_default().push(i as u32);
                remap.push(i as u32);
            }
        }
    }
    remap
}

/// Makes winding consistent across each connected piece (neighbours across a shared edge must
/// run it in opposite directions), then flips any piece whose enclosed volume is negative, so
/// triangles wind counter-clockwise seen from outside.
fn orient_outward(mesh: &mut TriMesh) {
    let tri_count = mesh.triangle_count();
    let mut edges: HashMap<(u32, u32), Vec<u32>> = HashMap::with_capacity(tri_count * 2);
    for t in 0..tri_count {
        for k in 0..3 {
            let (a, b) = (mesh.indices[3 * t + k], mesh.indices[3 * t + (k + 1) % 3]);
            edges
                .entry((a.min(b), a.max(b)))
                .or_default()
                .push(t as u32);
        }
    }
    let runs_forward = |idx: &[u32], t: usize, a: u32, b: u32| {
        (0..3).any(|k| idx[3 * t + k] == a && idx[3 * t + (k + 1) % 3] == b)
    };

    let mut component = vec![u32::MAX; tri_count];
    let mut flip = vec![false; tri_count];
    let mut pieces = 0u32;
    for seed in 0..tri_count {
        if component[seed] != u32::MAX {
            continue;
        }
        component[seed] = pieces;
        let mut queue = VecDeque::from([seed]);
        while let Some(t) = queue.pop_front() {
            for k in 0..3 {
                let (mut a, mut b) = (mesh.indices[3 * t + k], mesh.indices[3 * t + (k + 1) % 3]);
                if flip[t] {
                    std::mem::swap(&mut a, &mut b);
                }
                let shared = &edges[&(a.min(b), a.max(b))];
                // Only manifold edges say anything about orientation.
                if shared.len() != 2 {
                    continue;
                }
                let u = if shared[0] as usize == t {
                    shared[1]
                } else {
                    shared[0]
                } as usize;
                if component[u] != u32::MAX {
                    continue;
                }
                component[u] = pieces;
                // As stored, u runs a→b in the same direction as t (after t's flip) → flip u.
                flip[u] = runs_forward(&mesh.indices, u, a, b);
                queue.push_back(u);
            }
        }
        pieces += 1;
    }
    for (t, _) in flip.iter().enumerate().filter(|(_, f)| **f) {
        mesh.flip_triangle(t);
    }

    // Volume per piece, about the piece's own vertex centroid.
    let mut centroid = vec![(glam::DVec3::ZERO, 0.0f64); pieces as usize];
    for t in 0..tri_count {
        for p in mesh.triangle(t) {
            let c = &mut centroid[component[t] as usize];
            c.0 += p.as_dvec3();
            c.1 += 1.0;
        }
    }
    let mut volume = vec![0.0f64; pieces as usize];
    for t in 0..tri_count {
        let (sum, n) = centroid[component[t] as usize];
        let c = sum / n;
        let [a, b, d] = mesh.triangle(t).map(|p| p.as_dvec3() - c);
        volume[component[t] as usize] += a.dot(b.cross(d)) / 6.0;
    }
    for t in 0..tri_count {
        if volume[component[t] as usize] < 0.0 {
            mesh.flip_triangle(t);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Landmark estimation.
// ---------------------------------------------------------------------------------------------

/// Fills in the landmarks not given, from the geometry of a head in head space (mm, +Y up, face
/// toward +Z). Each estimate assumes an adult head at real scale:
///
/// - `top_of_head`: the highest vertex.
/// - The midline: the mean x of the vertices in the top 60 mm (the crown).
/// - `glabella`: from the midline profile seen from the front, the bump between the nasion and
///   the forehead (see [`profile_glabella`]; fallback: the front surface 105 mm below the top).
/// - `occiput`: the most posterior midline point 60-140 mm below the top.
/// - `outer_eye_corner_*`: the front surface 45 mm either side of the midline, 15 mm below the
///   glabella (the eye corner lies about there on adult faces; override it for precise framing).
/// - `ear_*`: the lateral extreme of each side in a window around eye level and the middle of
///   the head's depth (the outer rim of the ear), then up along that line to where the surface
///   first turns outward again: the crease where the top of the ear meets the head. Falls back
///   to the lateral extreme itself.
///
/// `given` is in head space here (`load_obj` converts the file-space overrides first); given
/// landmarks are used as they are and feed the estimates that depend on them.
pub fn estimate_landmarks(mesh: &TriMesh, given: &LandmarkOverrides) -> Landmarks {
    let (lo, hi) = mesh.bounds();
    let top_of_head = given.top_of_head.unwrap_or_else(|| {
        mesh.positions_mm
            .iter()
            .copied()
            .fold(Vec3::new(0.0, f32::NEG_INFINITY, 0.0), |b, p| {
                if p.y > b.y { p } else { b }
            })
    });
    let top = top_of_head.y;
    // The crown is the most symmetric part of a bust: no shoulders, ears or hair parting.
    let crown: Vec<f32> = mesh
        .positions_mm
        .iter()
        .filter(|p| p.y > top - 60.0)
        .map(|p| p.x)
        .collect();
    let mid_x = if crown.is_empty() {
        top_of_head.x
    } else {
        crown.iter().sum::<f32>() / crown.len() as f32
    };

    let along_z = AxisIndex::new(mesh, 2);
    let along_x = AxisIndex::new(mesh, 0);
    let front = |x: f32, y: f32| along_z.extreme(mesh, Vec2::new(x, y), true);
    let back = |x: f32, y: f32| along_z.extreme(mesh, Vec2::new(x, y), false);

    let glabella = given.glabella.unwrap_or_else(|| {
        let profile: Vec<Vec3> = (0..=150)
            .filter_map(|i| front(mid_x, top - 200.0 + i as f32))
            .collect();
        profile_glabella(&profile, top)
            .or_else(|| front(mid_x, top - 105.0))
            .unwrap_or_else(|| {
                log::warn!("no front surface found for the glabella; using the bounding box");
                Vec3::new(mid_x, top - 105.0, hi.z)
            })
    });

    let occiput = given.occiput.unwrap_or_else(|| {
        (0..=80)
            .filter_map(|i| back(mid_x, top - 140.0 + i as f32))
            .min_by(|a, b| a.z.total_cmp(&b.z))
            .unwrap_or(Vec3::new(mid_x, top - 100.0, lo.z))
    });

    let eye = |side: f32| {
        fissure_corner(&front, mid_x, glabella, side).unwrap_or_else(|| {
            log::debug!("no eye fissure found; the outer eye corner is placed by proportion");
            [45.0, 40.0, 35.0, 50.0]
                .iter()
                .find_map(|dx| front(mid_x + side * dx, glabella.y - 15.0))
                .unwrap_or(Vec3::new(
                    mid_x + side * 45.0,
                    glabella.y - 15.0,
                    glabella.z - 20.0,
                ))
        })
    };
    let outer_eye_corner_left = given.outer_eye_corner_left.unwrap_or_else(|| eye(1.0));
    let outer_eye_corner_right = given.outer_eye_corner_right.unwrap_or_else(|| eye(-1.0));

    let depth = (glabella.z - occiput.z).max(1.0);
    let ear = |side: f32| {
        let hit = |y: f32, z: f32| along_x.extreme(mesh, Vec2::new(y, z), side > 0.0);
        ear_top(&hit, mid_x, side, glabella.y, (occiput.z, depth)).unwrap_or_else(|| {
            log::debug!("no ear found beside the head; using the widest point at brow height");
            (0..=20)
                .filter_map(|i| hit(glabella.y, occiput.z + depth * (0.2 + 0.02 * i as f32)))
                .max_by(|a, b| (side * a.x).total_cmp(&(side * b.x)))
                .unwrap_or(Vec3::new(
                    mid_x + side * 0.5 * (hi.x - lo.x),
                    glabella.y,
                    0.5 * (glabella.z + occiput.z),
                ))
        })
    };
    let ear_left = given.ear_left.unwrap_or_else(|| ear(1.0));
    let ear_right = given.ear_right.unwrap_or_else(|| ear(-1.0));

    Landmarks {
        glabella,
        outer_eye_corner_left,
        outer_eye_corner_right,
        top_of_head,
        occiput,
        ear_left,
        ear_right,
    }
}

/// Half-height (mm) of the groove measure: the palpebral fissure of a closed or open eye is a
/// groove a few mm deep between the lids, about this wide.
const FISSURE_HALF_HEIGHT_MM: f32 = 5.0;
/// The outer eye corner is where the fissure's groove falls under this share of its depth at
/// the middle of the eye (laterally it fades into the crow's-feet crease and the orbital rim).
const FISSURE_END_SHARE: f32 = 0.8;

/// The outer eye corner (exocanthion) on one side of the face (`side` 1: the client's left):
/// the palpebral fissure is the deepest horizontal groove 20-45 mm below the glabella across
/// the middle of the eye (24-34 mm from the midline); followed outward, 1 mm at a time, it
/// ends at the outer corner, where it grows shallow. None when no groove shows (a face without
/// modelled eyes) or the eyes are open (a deeper groove above it, under the upper lid): the
/// caller falls back to proportions.
fn fissure_corner(
    front: &dyn Fn(f32, f32) -> Option<Vec3>,
    mid_x: f32,
    glabella: Vec3,
    side: f32,
) -> Option<Vec3> {
    let h = FISSURE_HALF_HEIGHT_MM;
    let groove = |dx: f32, y: f32| -> Option<f32> {
        let x = mid_x + side * dx;
        let (a, b, c) = (front(x, y - h)?, front(x, y)?, front(x, y + h)?);
        Some(0.5 * (a.z + c.z) - b.z)
    };
    let middle = |y: f32| -> f32 {
        [24.0, 27.0, 30.0, 33.0]
            .iter()
            .filter_map(|&dx| groove(dx, y))
            .sum::<f32>()
            / 4.0
    };
    let (peak, mut y) = (0..=50)
        .map(|i| glabella.y - 45.0 + 0.5 * i as f32)
        .map(|y| (middle(y), y))
        .max_by(|a, b| a.0.total_cmp(&b.0))?;
    // Open eyes show two grooves, one per lid, the upper one (under the brow) far the deeper
    // (more than twice on the procedural head; closed lids under a brow crease: about as deep):
    // that is no closed fissure to follow (None: the caller uses proportions).
    let upper = ((y + 8.0) as i32..=(glabella.y - 5.0) as i32)
        .map(|y| middle(y as f32))
        .fold(f32::NEG_INFINITY, f32::max);
    if peak < 0.5 || upper > 1.5 * peak {
        return None;
    }
    let mut corner = None;
    for dx in 31..=70 {
        let dx = dx as f32;
        let (g, y_next) = (-8..=8)
            .filter_map(|k| {
                let yy = y + 0.25 * k as f32;
                groove(dx, yy).map(|g| (g, yy))
            })
            .max_by(|a, b| a.0.total_cmp(&b.0))?;
        if g < FISSURE_END_SHARE * peak {
            break;
        }
        y = y_next;
        corner = Some(dx);
    }
    front(mid_x + side * corner?, y)
}

/// The top of the ear where it joins the head (`side` 1: the client's left): rows across the
/// side of the head (every mm, from 45 mm below to 20 mm above the glabella, over the middle
/// of the head's depth) show the ear as a bump standing out more than 3 mm from the row's
/// median (the skull). From the row where it stands out most, the bump is followed up while it
/// lasts; the landmark is the skull's surface 2 mm over its last row, just above the helix.
fn ear_top(
    hit: &dyn Fn(f32, f32) -> Option<Vec3>,
    mid_x: f32,
    side: f32,
    glabella_y: f32,
    (back_z, depth): (f32, f32),
) -> Option<Vec3> {
    const STANDS_OUT_MM: f32 = 3.0;
    let zs: Vec<f32> = (0..=60)
        .map(|i| back_z + depth * (0.2 + 0.4 * i as f32 / 60.0))
        .collect();
    // Per row: (how far the ear stands out, at which z).
    let row = |y: f32| -> Option<(f32, f32)> {
        let out: Vec<(f32, f32)> = zs
            .iter()
            .filter_map(|&z| hit(y, z).map(|p| (side * (p.x - mid_x), z)))
            .collect();
        if out.len() < zs.len() / 2 {
            return None;
        }
        let mut sorted: Vec<f32> = out.iter().map(|o| o.0).collect();
        sorted.sort_by(f32::total_cmp);
        let median = sorted[sorted.len() / 2];
        out.iter()
            .map(|&(o, z)| (o - median, z))
            .max_by(|a, b| a.0.total_cmp(&b.0))
    };
    let (mut y, (most, mut z)) = (0..=65)
        .map(|i| glabella_y - 45.0 + i as f32)
        .filter_map(|y| row(y).map(|r| (y, r)))
        .max_by(|a, b| a.1.0.total_cmp(&b.1.0))?;
    if most < STANDS_OUT_MM {
        return None;
    }
    // An ear's top is at most ~35 mm above where it stands out most (curls of hair or a
    // beard would lead further).
    let highest = y + 35.0;
    while let Some((out, z_next)) = row(y + 1.0).filter(|_| y + 1.0 <= highest) {
        // The same bump: standing out, and near where it was a row below.
        if out < STANDS_OUT_MM || (z_next - z).abs() > 15.0 {
            break;
        }
        (y, z) = (y + 1.0, z_next);
    }
    // 2 mm up, so the point is on the skull and seen over the helix from the side.
    hit(y + 2.0, z)
}

/// Glabella from the midline profile (front surface points, ascending in y): the nose tip is
/// the most forward point 120-190 mm below the top; the nasion the deepest point behind the
/// line from the nose tip to the forehead 70 mm below the top; the glabella the point standing
/// furthest in front of the line from the nasion to that forehead point (10 mm above the nasion
/// where the brow makes no bump). Lines rather than plain extremes keep this working on heads
/// that are tilted forward or back.
fn profile_glabella(profile: &[Vec3], top: f32) -> Option<Vec3> {
    let band = |lo: f32, hi: f32| profile.iter().filter(move |p| p.y >= lo && p.y <= hi);
    let tip = band(top - 190.0, top - 120.0).max_by(|a, b| a.z.total_cmp(&b.z))?;
    let forehead = band(top - 75.0, top - 65.0).min_by(|a, b| {
        (a.y - (top - 70.0))
            .abs()
            .total_cmp(&(b.y - (top - 70.0)).abs())
    })?;
    // Signed distance in front of the line through a and b, in the (y, z) plane.
    let in_front = |a: &Vec3, b: &Vec3, p: &Vec3| {
        let (ay, az, by, bz) = (a.y, a.z, b.y, b.z);
        let len = ((by - ay).powi(2) + (bz - az).powi(2)).sqrt().max(1e-6);
        ((p.z - az) * (by - ay) - (p.y - ay) * (bz - az)) / len * (by - ay).signum()
    };
    let nasion = band(tip.y + 5.0, forehead.y - 5.0)
        .min_by(|a, b| in_front(tip, forehead, a).total_cmp(&in_front(tip, forehead, b)))?;
    let bump = band(nasion.y + 3.0, forehead.y - 3.0)
        .max_by(|a, b| in_front(nasion, forehead, a).total_cmp(&in_front(nasion, forehead, b)));
    match bump {
        Some(g) if in_front(nasion, forehead, g) > 0.3 => Some(*g),
        _ => band(nasion.y + 9.0, nasion.y + 11.0).next().copied(),
    }
}

/// Triangles binned on a grid across one axis, for lines parallel to that axis.
struct AxisIndex {
    axis: usize,
    /// The other two axes, in order.
    plane: [usize; 2],
    origin: Vec2,
    cell: f32,
    dims: [usize; 2],
    cells: Vec<Vec<u32>>,
}

impl AxisIndex {
    fn new(mesh: &TriMesh, axis: usize) -> Self {
        let plane = [(axis + 1) % 3, (axis + 2) % 3];
        let plane = [plane[0].min(plane[1]), plane[0].max(plane[1])];
        let (lo, hi) = mesh.bounds();
        let proj = |p: Vec3| Vec2::new(p[plane[0]], p[plane[1]]);
        let (lo2, hi2) = (proj(lo), proj(hi));
        let cell = ((hi2 - lo2).max_element() / 128.0).max(1e-6);
        let dims = [
            ((hi2.x - lo2.x) / cell) as usize + 1,
            ((hi2.y - lo2.y) / cell) as usize + 1,
        ];
        let mut cells = vec![Vec::new(); dims[0] * dims[1]];
        for t in 0..mesh.triangle_count() {
            let [a, b, c] = mesh.triangle(t).map(proj);
            let (mn, mx) = (a.min(b).min(c), a.max(b).max(c));
            let i0 = ((mn - lo2) / cell).floor().max(Vec2::ZERO);
            let i1 = ((mx - lo2) / cell).floor();
            for i in i0.x as usize..=(i1.x as usize).min(dims[0] - 1) {
                for j in i0.y as usize..=(i1.y as usize).min(dims[1] - 1) {
                    cells[i * dims[1] + j].push(t as u32);
                }
            }
        }
        Self {
            axis,
            plane,
            origin: lo2,
            cell,
            dims,
            cells,
        }
    }

    /// Where the line through `at` (coordinates on the two other axes, in order) parallel to the
    /// axis meets the mesh furthest toward + (`toward_max`) or − along the axis.
    fn extreme(&self, mesh: &TriMesh, at: Vec2, toward_max: bool) -> Option<Vec3> {
        let g = (at - self.origin) / self.cell;
        if g.x < 0.0 || g.y < 0.0 {
            return None;
        }
        let (i, j) = (g.x as usize, g.y as usize);
        if i >= self.dims[0] || j >= self.dims[1] {
            return None;
        }
        let mut best: Option<f32> = None;
        for &t in &self.cells[i * self.dims[1] + j] {
            let tri = mesh.triangle(t as usize);
            let [a, b, c] = tri.map(|p| Vec2::new(p[self.plane[0]], p[self.plane[1]]));
            let area = (b - a).perp_dot(c - a);
            if area.abs() < 1e-12 {
                continue;
            }
            let w1 = (at - a).perp_dot(c - a) / area;
            let w2 = (b - a).perp_dot(at - a) / area;
            let w0 = 1.0 - w1 - w2;
            if w0 < 0.0 || w1 < 0.0 || w2 < 0.0 {
                continue;
            }
            let v = w0 * tri[0][self.axis] + w1 * tri[1][self.axis] + w2 * tri[2][self.axis];
            if best.is_none_or(|bv| if toward_max { v > bv } else { v < bv }) {
                best = Some(v);
            }
        }
        best.map(|v| {
            let mut p = Vec3::ZERO;
            p[self.axis] = v;
            p[self.plane[0]] = at.x;
            p[self.plane[1]] = at.y;
            p
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A grid of `n` x `n` quads as two triangles each; `every_other` keeps only the first.
    fn grid(n: u32, every_other: bool) -> Vec<u32> {
        let at = |x: u32, y: u32| y * (n + 1) + x;
        let mut out = Vec::new();
        for y in 0..n {
            for x in 0..n {
                let (a, b, c, d) = (at(x, y), at(x + 1, y), at(x + 1, y + 1), at(x, y + 1));
                out.extend([a, b, c]);
                if !every_other {
                    out.extend([a, c, d]);
                }
            }
        }
        out
    }

    #[test]
    fn a_surface_with_a_rim_is_not_flagged_but_one_of_holes_is() {
        // 40 x 40 quads: the rim is 160 of 4,880 edges (3%).
        assert_eq!(open_edges_note(&grid(40, false)), None);
        let note = open_edges_note(&grid(40, true)).expect("half the triangles missing");
        assert!(note.contains("100% of its edges"), "{note}");
    }
}
