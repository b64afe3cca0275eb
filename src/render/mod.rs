//! The renderer: the only module that knows about the GPU.
//!
//! A frame is these passes, each in its own file beside its WGSL:
//! 0. [`shadow_pass`]: the head's depth from the key light into a shadow map (when it casts
//!    shadows);
//! 1. [`surface_pass`]: the head mesh into a G-buffer (depth, normal, albedo tint) plus the
//!    far-field pigment sampled from the pigment map (all dots splatted once per plan);
//! 2. [`dots_pass`]: single dots as instanced decals on the reconstructed skin, only when the
//!    camera is close enough to resolve them; [`stubble_pass`]: the client's shaved hair as
//!    instanced shafts, likewise only close up;
//! 3. [`shade_pass`]: skin lighting (with the key's soft shadows), white balance and tonemapping;
//! 4. [`resolve_pass`]: supersample resolve into the sRGB output.

pub mod dots_pass;
pub mod gpu;
pub mod pigment_splat;
pub mod present;
pub mod readback;
pub mod resolve_pass;
pub mod shade_pass;
pub mod shadow_pass;
pub mod stubble_pass;
pub mod surface_pass;
pub mod targets;
pub mod tiles;

use crate::bake::dot_chunks::DotChunks;
use crate::bake::pigment_map::{self, AtlasPlacement, PigmentMap, TexelRect};
use crate::bake::scalp_map::{self, ScalpMap};
use crate::bake::surface_charts::{self, SurfaceCharts};
use crate::camera::Camera;
use crate::head::Head;
use crate::layout::Dot;
use crate::lighting::Lighting;
use crate::pigment;
use crate::plan::condition::{BaldScalp, ScalpState};
use crate::skin::Stubble;
use dots_pass::{DotsPass, GpuDot};
use glam::{Mat4, Vec3};
pub use gpu::{
    AdapterReport, AdapterRequest, AdapterSummary, BackendChoice, GpuContext, GpuError,
    compiled_backends,
};
use half::slice::HalfFloatSliceExt;
use pigment_splat::PigmentSplatPass;
pub use readback::{BitDepth, FrameImage, PassTimer, Rgba16Image};
use resolve_pass::ResolvePass;
use shade_pass::ShadePass;
use shadow_pass::ShadowPass;
use std::sync::Arc;
use stubble_pass::StubblePass;
use surface_pass::{SkinVertex, SurfacePass};
pub use targets::DEPTH_FORMAT;
use targets::FrameTargets;
use wgpu::util::DeviceExt;

pub use crate::scene::view::DEFAULT_PIGMENT_MAP_SIZE;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Gpu(#[from] GpuError),
    #[error(
        "a {width}x{height} frame at supersample {supersample} needs {need} samples, but Stipple \
         allows at most {max} per frame (larger frames render as tiles up to that): lower \
         render.width/height or render.supersample"
    )]
    FrameTooLarge {
        width: u32,
        height: u32,
        supersample: u32,
        need: u64,
        max: u64,
    },
    #[error(
        "{dots} dots need a {bytes} byte buffer, but this adapter ({adapter}) allows at most {max} bytes"
    )]
    TooManyDots {
        dots: usize,
        bytes: u64,
        max: u64,
        adapter: String,
    },
    #[error(
        "a frame must be at least 1x1 pixels and supersample 1-4, got {width}x{height} at {supersample}"
    )]
    BadSize {
        width: u32,
        height: u32,
        supersample: u32,
    },
    #[error("laying out the stubble's hair roots failed: {0}")]
    HairRoots(#[source] crate::layout::LayoutError),
    #[error("reading the frame back from the GPU failed: {0}")]
    Readback(String),
    #[error("the GPU device reported an error on {adapter}: {message}")]
    Device { adapter: String, message: String },
}

pub use crate::skin::SkinLook;

/// What `Renderer::prepare_with` needs besides the head and the dots. Plain data.
#[derive(Clone, Copy)]
pub struct SurfaceOptions<'a> {
    /// Native hair and scars (baked into the scalp map).
    pub scalp: &'a dyn ScalpState,
    /// Stubble where there is hair.
    pub stubble: Stubble,
    /// Hair colour, linear sRGB (stubble, and hair under the skin).
    pub hair_linear: Vec3,
    /// How the needle was driven (with each dot's needle, its footprint's shape).
    pub needle: pigment::NeedleHand,
    /// The skin the dots are seen on (linear sRGB), which sets their look
    /// ([`pigment::appearance`]); None: the scan's measured tone, else the default skin.
    pub skin_albedo: Option<Vec3>,
}

impl Default for SurfaceOptions<'_> {
    fn default() -> Self {
        Self {
            scalp: &BaldScalp,
            stubble: Stubble::default(),
            hair_linear: Vec3::new(0.024, 0.018, 0.016),
            needle: pigment::NeedleHand::default(),
            skin_albedo: None,
        }
    }
}

/// Everything a frame needs besides the prepared scene. Plain data.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FrameSettings {
    pub camera: Camera,
    pub lighting: Lighting,
    pub skin: SkinLook,
    pub width: u32,
    pub height: u32,
    /// Samples per pixel along each axis (1-4).
    pub supersample: u32,
    /// False renders the "before": the same head with no pigment.
    pub show_dots: bool,
    /// Draw single dots where the camera is close enough to resolve them (normally true;
    /// false shows only the pre-splatted pigment map, for previews and differential tests).
    pub single_dots: bool,
}

/// The per-frame uniform block (`Frame` in `shaders/common.wgsl`).
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
struct FrameUniforms {
    view_proj: [[f32; 4]; 4],
    inv_view_proj: [[f32; 4]; 4],
    camera_pos: [f32; 4],
    light_dir: [f32; 4],
    light_color: [f32; 4],
    sky_color: [f32; 4],
    ground_color: [f32; 4],
    skin: [f32; 4],
    pigment_origin: [f32; 4],
    viewport: [f32; 4],
    background_top: [f32; 4],
    background_bottom: [f32; 4],
    pigment_model: [f32; 4],
    pixel_origin: [f32; 4],
    skin_detail: [f32; 4],
    hair: [f32; 4],
    stubble: [f32; 4],
    /// [`frame_flags`] bits.
    flags: u32,
    _pad: [u32; 3],
}

/// Bits of `Frame.flags`: the same values as the `FRAME_*` constants in `shaders/common.wgsl`.
pub(crate) mod frame_flags {
    /// The near dot pass runs this frame.
    pub const NEAR_DOTS: u32 = 1;
    /// Pores and fine bumps are drawn.
    pub const SKIN_DETAIL: u32 = 2;
    /// The scalp map holds a condition (hair, scars).
    pub const CONDITION: u32 = 4;
    /// The stubble pass draws shafts this frame.
    pub const STUBBLE_SHAFTS: u32 = 8;
}

/// Where single dots give way to the pigment map, as `far_weight` in `shaders/common.wgsl`
/// (the same value): output pixels of at least this many of the map's texels take only the
/// map, so no near dot pass runs.
const FAR_ONLY_TEXELS: f32 = 1.0;

/// Whether skin `distance_mm` from `camera`, in a frame `height_px` output pixels tall, shows
/// more than the pigment map's texels of `texel_mm` hold, so single dots must be drawn. The
/// output pixel decides (`far_weight` in shaders/common.wgsl), never the supersample: the
/// resolve averages what the samples show beyond it.
fn map_resolves_less_than_pixel(
    distance_mm: f32,
    camera: &Camera,
    height_px: u32,
    texel_mm: f32,
) -> bool {
    distance_mm * camera.pixel_angle_rad(height_px) < FAR_ONLY_TEXELS * texel_mm
}

/// The studio backdrop's vertical gradient, relative to [`Lighting::backdrop_radiance`]: lighter
/// at the top, where the backdrop faces the key and sky, darker at the floor. A look chosen by
/// eye (a stopgap, not a measurement).
const BACKDROP_TOP: f32 = 1.25;
const BACKDROP_BOTTOM: f32 = 0.7;

fn v4(v: Vec3, w: f32) -> [f32; 4] {
    [v.x, v.y, v.z, w]
}

pub(crate) const COMMON_WGSL: &str = include_str!("../../shaders/common.wgsl");

/// A pass's shader with the shared `Frame` uniforms prepended.
pub(crate) fn shader_module(device: &wgpu::Device, label: &str, body: &str) -> wgpu::ShaderModule {
    plain_shader_module(device, label, &format!("{COMMON_WGSL}\n{body}"))
}

pub(crate) const FULLSCREEN_WGSL: &str = include_str!("../../shaders/fullscreen.wgsl");

/// A fullscreen pass's shader: the shared `vs_fullscreen` vertex stage prepended to `body`.
pub(crate) fn fullscreen_module(
    device: &wgpu::Device,
    label: &str,
    body: &str,
) -> wgpu::ShaderModule {
    plain_shader_module(device, label, &format!("{FULLSCREEN_WGSL}\n{body}"))
}

pub(crate) fn plain_shader_module(
    device: &wgpu::Device,
    label: &str,
    source: &str,
) -> wgpu::ShaderModule {
    device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(label),
        source: wgpu::ShaderSource::Wgsl(source.into()),
    })
}

pub(crate) fn texture_entry(
    binding: u32,
    sample_type: wgpu::TextureSampleType,
) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::FRAGMENT,
        ty: wgpu::BindingType::Texture {
            sample_type,
            view_dimension: wgpu::TextureViewDimension::D2,
            multisampled: false,
        },
        count: None,
    }
}

/// A filtering sampler read by the fragment stage (beside `texture_entry`'s textures).
pub(crate) fn sampler_entry(binding: u32) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::FRAGMENT,
        ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
        count: None,
    }
}

pub(crate) fn fullscreen_pipeline(
    device: &wgpu::Device,
    label: &str,
    module: &wgpu::ShaderModule,
    layouts: &[Option<&wgpu::BindGroupLayout>],
    format: wgpu::TextureFormat,
) -> wgpu::RenderPipeline {
    let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some(label),
        bind_group_layouts: layouts,
        immediate_size: 0,
    });
    fullscreen_pipeline_with(
        device,
        label,
        module,
        &layout,
        "fs_main",
        &[Some(format.into())],
        None,
    )
}

/// A full-screen triangle (`vs_fullscreen`) into `targets` with the fragment `entry`. With
/// `depth_compare`, the triangle lies on the far plane (`vs_fullscreen_far`) and is tested
/// against the pass's depth buffer ([`targets::DEPTH_FORMAT`]) without writing it.
pub(crate) fn fullscreen_pipeline_with(
    device: &wgpu::Device,
    label: &str,
    module: &wgpu::ShaderModule,
    layout: &wgpu::PipelineLayout,
    entry: &str,
    targets: &[Option<wgpu::ColorTargetState>],
    depth_compare: Option<wgpu::CompareFunction>,
) -> wgpu::RenderPipeline {
    device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
        label: Some(label),
        layout: Some(layout),
        vertex: wgpu::VertexState {
            module,
            entry_point: Some(if depth_compare.is_some() {
                "vs_fullscreen_far"
            } else {
                "vs_fullscreen"
            }),
            compilation_options: Default::default(),
            buffers: &[],
        },
        primitive: Default::default(),
        depth_stencil: depth_compare.map(|compare| wgpu::DepthStencilState {
            format: targets::DEPTH_FORMAT,
            depth_write_enabled: Some(false),
            depth_compare: Some(compare),
            stencil: Default::default(),
            bias: Default::default(),
        }),
        multisample: Default::default(),
        fragment: Some(wgpu::FragmentState {
            module,
            entry_point: Some(entry),
            compilation_options: Default::default(),
            targets,
        }),
        multiview_mask: None,
        cache: None,
    })
}

pub(crate) fn fullscreen_draw(
    encoder: &mut wgpu::CommandEncoder,
    label: &str,
    pipeline: &wgpu::RenderPipeline,
    target: &wgpu::TextureView,
    bind_groups: &[&wgpu::BindGroup],
) {
    let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
        label: Some(label),
        color_attachments: &[Some(wgpu::RenderPassColorAttachment {
            view: target,
            depth_slice: None,
            resolve_target: None,
            ops: wgpu::Operations {
                load: wgpu::LoadOp::Clear(wgpu::Color::BLACK),
                store: wgpu::StoreOp::Store,
            },
        })],
        depth_stencil_attachment: None,
        timestamp_writes: None,
        occlusion_query_set: None,
        multiview_mask: None,
    });
    pass.set_pipeline(pipeline);
    for (i, g) in bind_groups.iter().enumerate() {
        pass.set_bind_group(i as u32, *g, &[]);
    }
    pass.draw(0..3, 0..1);
}

/// The largest pigment-map atlas side on an adapter whose 2D textures reach `limit`.
fn limits_side(limit: u32) -> u32 {
    limit.min(pigment_map::MAX_ATLAS_SIDE)
}

fn cube_view(texture: &wgpu::Texture) -> wgpu::TextureView {
    texture.create_view(&wgpu::TextureViewDescriptor {
        dimension: Some(wgpu::TextureViewDimension::Cube),
        ..Default::default()
    })
}

/// The passes' pipelines.
pub struct Passes {
    pub shadow: ShadowPass,
    pub surface: SurfacePass,
    pub dots: DotsPass,
    pub stubble: StubblePass,
    pub shade: ShadePass,
    pub resolve: ResolvePass,
    /// Preparation: the pigment map splat.
    pub splat: PigmentSplatPass,
}

/// A head and its plan's dots on the GPU: built once per plan, drawn every frame. A clone
/// shares the GPU resources (wgpu handles are reference-counted).
#[derive(Clone)]
pub struct GpuScene {
    /// The device its resources live on ([`Renderer::prepare_dots_like`] checks it).
    device: wgpu::Device,
    vertices: wgpu::Buffer,
    indices: wgpu::Buffer,
    index_count: u32,
    /// The surface pass's group 2: the scan's colour texture (one white texel without).
    albedo: wgpu::BindGroup,
    /// The scan's measured skin colour (linear), where it has colours of its own.
    scan_skin: Option<Vec3>,
    /// The skin the dots' looks were made for ([`SurfaceOptions::skin_albedo`]).
    dot_skin: Vec3,
    dots: Option<wgpu::Buffer>,
    dot_count: u32,
    pigment: wgpu::BindGroup,
    no_pigment: wgpu::BindGroup,
    /// The pigment map's atlas (None without dots: the empty map is drawn).
    pigment_map: Option<wgpu::Texture>,
    /// The head's surface charts, which the pigment map is an atlas of (shared by every scene
    /// prepared on the same head: [`Renderer::charts_for`]).
    charts: Arc<SurfaceCharts>,
    /// Kept to rebuild the surface pass's bind group when the dots change.
    scalp_view: wgpu::TextureView,
    empty_view: wgpu::TextureView,
    empty_table: wgpu::TextureView,
    pigment_origin_mm: Vec3,
    /// The pigment map's texel on the skin (mm).
    texel_mm: f32,
    /// Largest distance of a dot from the pigment origin (mm).
    dots_max_radius_mm: f32,
    /// The head mesh's bounds (min, max; mm), which the key light's shadow map is fitted to.
    bounds_mm: (Vec3, Vec3),
    /// The dots' spatial chunks, in the order of the dot buffer.
    chunks: DotChunks,
    /// Footprint harmonics per needle (1 or 3 points), driven by the client's hand.
    footprints: [[f32; 4]; 2],
    /// Whether the scalp has any hair or scar (else the scalp map is one empty texel).
    has_condition: bool,
    stubble: Stubble,
    hair_linear: Vec3,
    /// Unique per prepared scene: tells a kept shadow map whose head it shows.
    id: u64,
    /// The stubble's shafts ([`stubble_pass`]); None when none are drawn.
    hairs: Option<wgpu::Buffer>,
    hair_count: u32,
    /// Largest distance of a hair root from the pigment origin (mm).
    hairs_max_radius_mm: f32,
}

impl GpuScene {
    pub fn dot_count(&self) -> u32 {
        self.dot_count
    }

    /// Stubble shafts drawn close up (0 for a bald scalp or stubble too short to draw).
    pub fn hair_count(&self) -> u32 {
        self.hair_count
    }
}

pub struct Renderer {
    pub gpu: GpuContext,
    passes: Passes,
    frame_layout: wgpu::BindGroupLayout,
    frame_buffer: wgpu::Buffer,
    frame_bind_group: wgpu::BindGroup,
    sampler: wgpu::Sampler,
    targets: Option<FrameTargets>,
    /// The after's targets of a before/after pair (sharing `targets`' surface) and the shade
    /// pass's group over its pigment ([`Renderer::render_before_after`]).
    pair_targets: Option<(FrameTargets, wgpu::BindGroup)>,
    /// Tile size cap for stills (see [`Renderer::set_max_tile_size`]).
    max_tile_px: Option<u32>,
    pass_timer: PassTimer,
    /// Reuse the shadow map while the scene and the light stay the same (the viewer; see
    /// [`Renderer::set_keep_shadow_map`]).
    keep_shadow_map: bool,
    /// The scene, light and exposure the shadow map was last drawn for.
    shadow_drawn_for: Option<(u64, Lighting, f32)>,
    /// Where pigment maps are splatted (see [`SplatOn`]).
    splat_on: SplatOn,
    /// Surface charts of the heads prepared most recently (newest last), by a hash of the
    /// mesh and the texel size: building them is a fixed cost per head (about 0.3 s for the
    /// built-in head), the same for every state, session and variant prepared on it.
    charts_cache: std::sync::Mutex<Vec<(u64, Arc<SurfaceCharts>)>>,
}

/// Heads whose charts [`Renderer`] keeps (a batch alternates at most a couple of heads).
const CHARTS_CACHED: usize = 2;

/// Where a plan's pigment map is splatted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SplatOn {
    /// Instanced Gaussians rasterised into the map ([`pigment_splat`]): what a GPU is for.
    Gpu,
    /// [`PigmentMap::build`] on the machine's cores, uploaded with its mips.
    Cpu,
}

impl SplatOn {
    /// The faster of the two for an adapter. A software adapter (llvmpipe, lavapipe, WARP) is
    /// these same cores: there rasterising a million quads of a few texels each costs about
    /// three times the CPU splat's separable sums (`stipple bench` with `STIPPLE_SPLAT=gpu`
    /// and without, lavapipe on 2 idle cores: 1M dots prepared in 1.92 s against 0.60 s,
    /// 300k in 0.76 s against 0.23 s). GL adapters always splat on the CPU: Mesa's GL backend leaves
    /// the GPU splat's cube-face mip levels partly empty (seen on llvmpipe).
    pub fn for_adapter(info: &wgpu::AdapterInfo) -> SplatOn {
        if info.backend == wgpu::Backend::Gl || info.device_type == wgpu::DeviceType::Cpu {
            SplatOn::Cpu
        } else {
            SplatOn::Gpu
        }
    }
}

impl Renderer {
    pub fn new(gpu: GpuContext) -> Self {
        let device = &gpu.device;
        let frame_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("frame"),
            entries: &[wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::VERTEX | wgpu::ShaderStages::FRAGMENT,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Uniform,
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            }],
        });
        let frame_buffer = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("frame"),
            size: std::mem::size_of::<FrameUniforms>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let frame_bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("frame"),
            layout: &frame_layout,
            entries: &[wgpu::BindGroupEntry {
                binding: 0,
                resource: frame_buffer.as_entire_binding(),
            }],
        });
        // Anisotropic filtering keeps pigment crisp on the sloping sides of the head, but on
        // a software rasteriser it costs several times the whole frame: real GPUs only.
        let anisotropic = gpu
            .adapter
            .get_downlevel_capabilities()
            .flags
            .contains(wgpu::DownlevelFlags::ANISOTROPIC_FILTERING)
            && gpu.adapter.get_info().device_type != wgpu::DeviceType::Cpu
            && !gpu.summary.name.to_ascii_lowercase().contains("llvmpipe");
        let sampler = device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("pigment map"),
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            mipmap_filter: wgpu::MipmapFilterMode::Linear,
            // Grazing views of the scalp would otherwise blur the pigment into a smear.
            anisotropy_clamp: if anisotropic { 16 } else { 1 },
            ..Default::default()
        });
        let shadow = ShadowPass::new(device);
        let dots = DotsPass::new(device, &frame_layout);
        // `STIPPLE_SPLAT=gpu|cpu` overrides the choice: to compare the two on one adapter.
        let splat_on = match std::env::var("STIPPLE_SPLAT").as_deref() {
            Ok("gpu") => SplatOn::Gpu,
            Ok("cpu") => SplatOn::Cpu,
            _ => SplatOn::for_adapter(&gpu.adapter.get_info()),
        };
        let passes = Passes {
            surface: SurfacePass::new(device, &frame_layout),
            stubble: StubblePass::new(device, &frame_layout, &dots.gbuffer_layout),
            dots,
            shade: ShadePass::new(device, &gpu.queue, &frame_layout, &shadow.light_layout),
            shadow,
            resolve: ResolvePass::new(device),
            splat: PigmentSplatPass::new(
                device,
                device
                    .features()
                    .contains(wgpu::Features::FLOAT32_BLENDABLE),
            ),
        };
        Self {
            gpu,
            passes,
            frame_layout,
            frame_buffer,
            frame_bind_group,
            sampler,
            targets: None,
            pair_targets: None,
            max_tile_px: None,
            pass_timer: PassTimer::default(),
            keep_shadow_map: false,
            shadow_drawn_for: None,
            splat_on,
            charts_cache: Default::default(),
        }
    }

    /// The surface charts of `mesh` at `texel_mm`, built once per head and kept.
    fn charts_for(&self, mesh: &crate::head::TriMesh, texel_mm: f32) -> Arc<SurfaceCharts> {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        texel_mm.to_bits().hash(&mut h);
        for p in &mesh.positions_mm {
            p.to_array().map(f32::to_bits).hash(&mut h);
        }
        mesh.indices.hash(&mut h);
        let key = h.finish();
        let mut cache = self.charts_cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = cache.iter().position(|(k, _)| *k == key) {
            let hit = cache.remove(i);
            cache.push(hit.clone());
            return hit.1;
        }
        let charts = Arc::new(SurfaceCharts::build(mesh, texel_mm));
        cache.push((key, charts.clone()));
        if cache.len() > CHARTS_CACHED {
            cache.remove(0);
        }
        charts
    }

    /// Keep the shadow map from frame to frame while the scene and the light are unchanged.
    /// The map is in the light's space, so turning the camera does not change it; on a
    /// software rasteriser drawing it is a large share of a small frame. Off by default, so
    /// stills and the benchmark time every pass of every frame.
    pub fn set_keep_shadow_map(&mut self, keep: bool) {
        self.keep_shadow_map = keep;
    }

    /// Whether supersampled frames draw single dots' halos once per output pixel (the
    /// default, see [`dots_pass`]) or every dot whole at every sample. Tests compare the two.
    pub fn set_halos_per_output_pixel(&mut self, on: bool) {
        self.passes.dots.halos_per_output_pixel = on;
    }

    /// Where the pigment maps of scenes prepared from now on are splatted; by default
    /// [`SplatOn::for_adapter`]. Tests set both to compare them.
    pub fn set_splat_on(&mut self, on: SplatOn) {
        self.splat_on = on;
    }

    pub fn splat_on(&self) -> SplatOn {
        self.splat_on
    }

    /// Whether the GPU splat gives a correct map on this adapter (not on GL: see
    /// [`SplatOn::for_adapter`]).
    pub fn gpu_splat_works(&self) -> bool {
        self.gpu.adapter.get_info().backend != wgpu::Backend::Gl
    }

    pub fn frame_layout(&self) -> &wgpu::BindGroupLayout {
        &self.frame_layout
    }

    /// Uploads a cube map with its mips (RGBA f16) and returns its cube view.
    fn upload_cube(
        &self,
        label: &str,
        size: u32,
        levels: &[[Vec<[f32; 4]>; 6]],
    ) -> wgpu::TextureView {
        let full = Some(TexelRect::full(size as usize));
        cube_view(&self.upload_cube_texture(label, size, levels, &[full; 6]))
    }

    /// Uploads a cube map with its mips (RGBA f16): of each face only the texels inside
    /// `occupied` (at level 0; wgpu starts a texture zeroed, and the rest is zero).
    fn upload_cube_texture(
        &self,
        label: &str,
        size: u32,
        levels: &[[Vec<[f32; 4]>; 6]],
        occupied: &[Option<TexelRect>; 6],
    ) -> wgpu::Texture {
        let device = &self.gpu.device;
        let texture = device.create_texture(&wgpu::TextureDescriptor {
            label: Some(label),
            size: wgpu::Extent3d {
                width: size,
                height: size,
                depth_or_array_layers: 6,
            },
            mip_level_count: levels.len() as u32,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: wgpu::TextureFormat::Rgba16Float,
            usage: wgpu::TextureUsages::TEXTURE_BINDING
                | wgpu::TextureUsages::COPY_DST
                | wgpu::TextureUsages::COPY_SRC,
            view_formats: &[],
        });
        for (level, faces) in levels.iter().enumerate() {
            let size = (size >> level).max(1) as usize;
            for (face, texels) in faces.iter().enumerate() {
                let Some(r) = occupied[face].map(|r| r.at_level(level)) else {
                    continue;
                };
                let width = r.x1 - r.x0 + 1;
                let mut half = vec![half::f16::ZERO; width * (r.y1 - r.y0 + 1) * 4];
                for (dst, y) in half.chunks_mut(width * 4).zip(r.y0..=r.y1) {
                    let row = &texels[y * size + r.x0..y * size + r.x1 + 1];
                    dst.convert_from_f32_slice(bytemuck::cast_slice(row));
                }
                self.gpu.queue.write_texture(
                    wgpu::TexelCopyTextureInfo {
                        texture: &texture,
                        mip_level: level as u32,
                        origin: wgpu::Origin3d {
                            x: r.x0 as u32,
                            y: r.y0 as u32,
                            z: face as u32,
                        },
                        aspect: wgpu::TextureAspect::All,
                    },
                    bytemuck::cast_slice(&half),
                    wgpu::TexelCopyBufferLayout {
                        offset: 0,
                        bytes_per_row: Some(width as u32 * 8),
                        rows_per_image: None,
                    },
                    wgpu::Extent3d {
                        width: width as u32,
                        height: (r.y1 - r.y0 + 1) as u32,
                        depth_or_array_layers: 1,
                    },
                );
            }
        }
        texture
    }

    /// Uploads the pigment map's atlas with its mips (RGBA f16).
    fn upload_atlas(&self, label: &str, map: &PigmentMap) -> wgpu::Texture {
        let texture = self.gpu.device.create_texture(&wgpu::TextureDescriptor {
            label: Some(label),
            size: wgpu::Extent3d {
                width: map.width,
                height: map.height,
                depth_or_array_layers: 1,
            },
            mip_level_count: map.levels.len() as u32,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: wgpu::TextureFormat::Rgba16Float,
            usage: wgpu::TextureUsages::TEXTURE_BINDING
                | wgpu::TextureUsages::COPY_DST
                | wgpu::TextureUsages::COPY_SRC,
            view_formats: &[],
        });
        for (level, texels) in map.levels.iter().enumerate() {
            let (w, h) = ((map.width >> level).max(1), (map.height >> level).max(1));
            let mut half = vec![half::f16::ZERO; texels.len() * 4];
            let floats: &[f32] = bytemuck::cast_slice(texels);
            pigment_map::parallel_chunks_mut(&mut half, 1 << 16, |start, part| {
                part.convert_from_f32_slice(&floats[start..start + part.len()]);
            });
            self.gpu.queue.write_texture(
                wgpu::TexelCopyTextureInfo {
                    texture: &texture,
                    mip_level: level as u32,
                    origin: wgpu::Origin3d::ZERO,
                    aspect: wgpu::TextureAspect::All,
                },
                bytemuck::cast_slice(&half),
                wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(w * 8),
                    rows_per_image: None,
                },
                wgpu::Extent3d {
                    width: w,
                    height: h,
                    depth_or_array_layers: 1,
                },
            );
        }
        texture
    }

    /// Uploads the chart table (RGBA f32, two texels a chart, [`pigment_map::CHART_TABLE_WIDTH`]
    /// charts a row).
    fn upload_chart_table(&self, table: &[[f32; 4]]) -> wgpu::TextureView {
        let width = (table.len() as u32).clamp(2, 2 * pigment_map::CHART_TABLE_WIDTH);
        let height = (table.len() as u32).div_ceil(width).max(1);
        let mut texels = table.to_vec();
        texels.resize((width * height) as usize, [0.0; 4]);
        let texture = self.gpu.device.create_texture_with_data(
            &self.gpu.queue,
            &wgpu::TextureDescriptor {
                label: Some("chart table"),
                size: wgpu::Extent3d {
                    width,
                    height,
                    depth_or_array_layers: 1,
                },
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format: wgpu::TextureFormat::Rgba32Float,
                usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
                view_formats: &[],
            },
            wgpu::util::TextureDataOrder::LayerMajor,
            bytemuck::cast_slice(&texels),
        );
        texture.create_view(&Default::default())
    }

    /// The surface pass's group 2: the scan's colour texture and normal map
    /// ([`SurfacePass::scan_textures`]).
    fn upload_albedo(&self, mesh: &crate::head::TriMesh) -> wgpu::BindGroup {
        self.passes.surface.scan_textures(&self.gpu, mesh)
    }

    /// The surface pass's group 1: the pigment map, the scalp map and the chart table.
    fn surface_maps(
        &self,
        pigment: &wgpu::TextureView,
        scalp: &wgpu::TextureView,
        table: &wgpu::TextureView,
    ) -> wgpu::BindGroup {
        self.gpu
            .device
            .create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("pigment and scalp maps"),
                layout: &self.passes.surface.pigment_layout,
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: wgpu::BindingResource::TextureView(pigment),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: wgpu::BindingResource::Sampler(&self.sampler),
                    },
                    wgpu::BindGroupEntry {
                        binding: 2,
                        resource: wgpu::BindingResource::TextureView(scalp),
                    },
                    wgpu::BindGroupEntry {
                        binding: 3,
                        resource: wgpu::BindingResource::TextureView(table),
                    },
                ],
            })
    }

    /// Uploads a head and its dots, and splats the dots into the pigment map: a bald scalp
    /// with no scars, default stubble settings and needle.
    pub fn prepare(
        &self,
        head: &Head,
        dots: &[Dot],
        pigment_map_size: u32,
    ) -> Result<GpuScene, RenderError> {
        self.prepare_with(head, dots, pigment_map_size, &SurfaceOptions::default())
    }

    /// [`Renderer::prepare`] for a scalp with a condition (hair, scars), stubble and a needle.
    pub fn prepare_with(
        &self,
        head: &Head,
        dots: &[Dot],
        pigment_map_size: u32,
        options: &SurfaceOptions,
    ) -> Result<GpuScene, RenderError> {
        self.check_dot_count(dots)?;
        let mut scene = self.prepare_head(head, pigment_map_size, options)?;
        self.prepare_dots(&mut scene, dots)?;
        Ok(scene)
    }

    /// Another state of the plan `base` was prepared for (a session, an ageing year), on the
    /// same head for the same client: only the dots are uploaded and splatted; the head's
    /// buffers, the scalp map, the stubble and the charts are `base`'s, and so is a kept shadow
    /// map (it shows the head, not the dots). None when `base` was prepared on another device.
    pub fn prepare_dots_like(
        &self,
        base: &GpuScene,
        dots: &[Dot],
    ) -> Result<Option<GpuScene>, RenderError> {
        if base.device != self.gpu.device {
            return Ok(None);
        }
        let mut scene = base.clone();
        self.prepare_dots(&mut scene, dots)?;
        Ok(Some(scene))
    }

    fn check_dot_count(&self, dots: &[Dot]) -> Result<(), RenderError> {
        let limits = self.gpu.limits();
        let dot_bytes = (dots.len() * std::mem::size_of::<GpuDot>()) as u64;
        if dot_bytes > limits.max_buffer_size || dots.len() > u32::MAX as usize {
            return Err(RenderError::TooManyDots {
                dots: dots.len(),
                bytes: dot_bytes,
                max: limits.max_buffer_size,
                adapter: self.gpu.summary.to_string(),
            });
        }
        Ok(())
    }

    /// Everything derived from the head and the client (mesh buffers, scalp map, stubble
    /// roots), with no dots yet: [`Renderer::prepare_dots`] adds them.
    fn prepare_head(
        &self,
        head: &Head,
        pigment_map_size: u32,
        options: &SurfaceOptions,
    ) -> Result<GpuScene, RenderError> {
        let started = std::time::Instant::now();
        let device = &self.gpu.device;
        let texel_mm = surface_charts::texel_mm_for_size(pigment_map_size);
        let mesh = &head.mesh;
        let charts = self.charts_for(mesh, texel_mm);
        // The scan's colours are stored relative to its measured skin tone (the forehead's),
        // so the G-buffer's tint keeps meaning "relative to the skin colour" and the frame's
        // skin colour (the scan's own, or the scene's as an override) scales them.
        let scan_skin = crate::head::skin_tone::measure(head).map(|t| t.albedo_linear);
        let (skin_vertices, skin_indices) = skin_vertices(
            mesh,
            &charts.triangle_chart,
            scan_skin.map_or(Vec3::ONE, |m| Vec3::ONE / m.max(Vec3::splat(1e-3))),
        );
        let vertices = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("head vertices"),
            contents: bytemuck::cast_slice(&skin_vertices),
            usage: wgpu::BufferUsages::VERTEX,
        });
        let indices = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("head indices"),
            contents: bytemuck::cast_slice(&skin_indices),
            usage: wgpu::BufferUsages::INDEX,
        });
        let albedo = self.upload_albedo(mesh);
        let origin = head.cranium_center();
        let empty = PigmentMap::empty(texel_mm);
        let empty_view = self
            .upload_atlas("no pigment", &empty)
            .create_view(&Default::default());
        let empty_table = self.upload_chart_table(&[]);
        // A bald scalp with no scars (the default) skips the bake: one empty texel.
        let has_condition = mesh
            .positions_mm
            .iter()
            .any(|p| options.scalp.hair_fraction(*p) > 0.0 || options.scalp.scar_tissue(*p) > 0.0);
        let scalp = if has_condition {
            ScalpMap::build(mesh, origin, options.scalp, scalp_map::SCALP_MAP_SIZE)
        } else {
            ScalpMap::bald()
        };
        let scalp_view = self.upload_cube("scalp map", scalp.size, &scalp.levels);
        let hairs = if has_condition {
            crate::bake::hairs::lay_out_hairs(
                mesh,
                options.scalp,
                &options.stubble,
                options.hair_linear,
            )
            .map_err(RenderError::HairRoots)?
        } else {
            Vec::new()
        };
        let hairs_max_radius_mm = hairs
            .iter()
            .map(|h| (Vec3::from_array(h.root_mm) - origin).length())
            .fold(0.0f32, f32::max);
        let hair_buffer = (!hairs.is_empty()).then(|| {
            device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("stubble"),
                contents: bytemuck::cast_slice(&hairs),
                usage: wgpu::BufferUsages::VERTEX,
            })
        });
        let no_pigment = self.surface_maps(&empty_view, &scalp_view, &empty_table);
        log::debug!(
            "prepare: head, scalp map and stubble in {:.1} ms",
            started.elapsed().as_secs_f64() * 1e3
        );
        self.check_device()?;
        Ok(GpuScene {
            device: device.clone(),
            vertices,
            indices,
            index_count: skin_indices.len() as u32,
            albedo,
            scan_skin,
            dot_skin: options
                .skin_albedo
                .or(scan_skin)
                .unwrap_or_else(pigment::default_skin),
            dots: None,
            dot_count: 0,
            pigment: self.surface_maps(&empty_view, &scalp_view, &empty_table),
            no_pigment,
            pigment_map: None,
            charts,
            scalp_view,
            empty_view,
            empty_table,
            pigment_origin_mm: origin,
            texel_mm,
            dots_max_radius_mm: 0.0,
            bounds_mm: mesh.bounds(),
            chunks: DotChunks::default(),
            footprints: [1u8, 3].map(|points| options.needle.shape(points)),
            has_condition,
            stubble: options.stubble,
            hair_linear: options.hair_linear,
            id: {
                static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
                NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            },
            hairs: hair_buffer,
            hair_count: hairs.len() as u32,
            hairs_max_radius_mm,
        })
    }

    /// Replaces a prepared scene's dots (another session or ageing state of the plan on the
    /// same head): uploads them and splats them into a new pigment map on the GPU. The head's
    /// buffers, the scalp map, the stubble and a kept shadow map are reused.
    pub fn prepare_dots(&self, scene: &mut GpuScene, dots: &[Dot]) -> Result<(), RenderError> {
        self.check_dot_count(dots)?;
        let started = std::time::Instant::now();
        let device = &self.gpu.device;
        let origin = scene.pigment_origin_mm;
        // Sorted into spatial chunks so close-ups draw only the dots in view (and the splat
        // draws face by face).
        let chunks = DotChunks::build(dots, origin);
        let sorted = started.elapsed();
        let looks = pigment::Appearances::on(scene.dot_skin);
        let mut gpu_dots: Vec<GpuDot> = bytemuck::zeroed_vec(dots.len());
        pigment_map::parallel_chunks_mut(&mut gpu_dots, 4096, |start, part| {
            // Gathered into the chunks' order first, in a loop that does nothing else: the
            // plan keeps dots in acceptance order, scattered over the head, so each read
            // misses the cache, and a tight loop keeps many of those misses in flight where
            // the look's arithmetic between them would not.
            let order = &chunks.order[start..start + part.len()];
            let gathered: Vec<Dot> = order.iter().map(|&i| dots[i as usize]).collect();
            for (out, d) in part.iter_mut().zip(&gathered) {
                let look = looks.at(d.shade, d.depth_mm, d.diameter_mm);
                *out = GpuDot {
                    center_mm: d.position_mm.to_array(),
                    radius_mm: look.radius_mm,
                    normal: d.normal.to_array(),
                    edge_mm: look.edge_mm,
                    darkening: look.darkening.to_array(),
                    halo_sigma_mm: look.halo_sigma_mm,
                    footprint: scene.footprints[usize::from(d.needle.points >= 3)],
                    core: look.core_darkening.extend(0.0).to_array(),
                };
            }
        });
        let looked = started.elapsed();
        let max_side = limits_side(self.gpu.limits().max_texture_dimension_2d);
        // The dots' buffer is copied up on a thread of its own while the pigment map is placed
        // and splatted: a single-threaded copy of up to 80 MB that would otherwise leave a core
        // idle.
        let (dots_buffer, map) = std::thread::scope(|s| {
            let buffer = s.spawn(|| {
                (!gpu_dots.is_empty()).then(|| {
                    device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                        label: Some("dots"),
                        contents: bytemuck::cast_slice(&gpu_dots),
                        usage: wgpu::BufferUsages::VERTEX,
                    })
                })
            });
            let map =
                (!gpu_dots.is_empty()).then(|| self.splat_pigment_map(scene, &gpu_dots, max_side));
            (buffer.join().expect("the dots' upload panicked"), map)
        });
        scene.pigment = match &map {
            Some((map, table)) => self.surface_maps(
                &map.create_view(&Default::default()),
                &scene.scalp_view,
                table,
            ),
            None => self.surface_maps(&scene.empty_view, &scene.scalp_view, &scene.empty_table),
        };
        let map = map.map(|(texture, _)| texture);
        scene.dots_max_radius_mm = dots
            .iter()
            .map(|d| (d.position_mm - origin).length())
            .fold(0.0f32, f32::max);
        scene.dots = dots_buffer;
        scene.dot_count = dots.len() as u32;
        scene.chunks = chunks;
        scene.pigment_map = map;
        // Wait for the splat, so that its time is counted here (not in the first frame) and
        // its errors surface here.
        let _ = device.poll(wgpu::PollType::wait_indefinitely());
        log::debug!(
            "prepare: {} dots: sorted {:.1} ms, looks {:.1} ms, uploaded and splatted {:.1} ms ({})",
            dots.len(),
            sorted.as_secs_f64() * 1e3,
            (looked - sorted).as_secs_f64() * 1e3,
            (started.elapsed() - looked).as_secs_f64() * 1e3,
            match self.splat_on {
                SplatOn::Cpu => "on the CPU",
                _ if self.passes.splat.accumulates_in_f32() => "on the GPU, f32",
                _ => "on the GPU, f16",
            }
        );
        self.check_device()
    }

    /// The pigment map of `gpu_dots` on `scene`'s charts (placed, splatted on the CPU or the
    /// GPU, uploaded) and its chart table.
    fn splat_pigment_map(
        &self,
        scene: &GpuScene,
        gpu_dots: &[GpuDot],
        max_side: u32,
    ) -> (wgpu::Texture, wgpu::TextureView) {
        // The near pass's records already hold each dot's look.
        let placement = AtlasPlacement::place(
            &scene.charts,
            gpu_dots,
            |d| pigment_map::SplatSource {
                position_mm: Vec3::from(d.center_mm),
                normal: Vec3::from(d.normal),
                footprint_mm2: pigment::footprint_mm2(d.radius_mm, d.halo_sigma_mm),
                darkening: Vec3::from(d.darkening),
                halo_sigma_mm: d.halo_sigma_mm,
            },
            max_side,
        );
        let table = self.upload_chart_table(&placement.table);
        let texture = if self.splat_on == SplatOn::Cpu {
            self.upload_atlas("pigment map (CPU)", &PigmentMap::sum(&placement))
        } else {
            self.passes
                .splat
                .splat(&self.gpu.device, &self.gpu.queue, &placement)
        };
        (texture, table)
    }

    /// The scene's pigment map as it was splatted: `levels[level]` = RGBA texels, row-major,
    /// as [`PigmentMap::levels`] (for differential tests against the CPU reference). None when
    /// the scene has no dots.
    pub fn read_pigment_map(
        &self,
        scene: &GpuScene,
    ) -> Result<Option<Vec<Vec<[f32; 4]>>>, RenderError> {
        let Some(map) = &scene.pigment_map else {
            return Ok(None);
        };
        let mut levels = Vec::new();
        for level in 0..map.mip_level_count() {
            let (w, h) = (
                (map.width() >> level).max(1),
                (map.height() >> level).max(1),
            );
            let row = w * 8;
            let padded = row.div_ceil(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT)
                * wgpu::COPY_BYTES_PER_ROW_ALIGNMENT;
            let buffer = self.gpu.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("pigment map readback"),
                size: padded as u64 * h as u64,
                usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
                mapped_at_creation: false,
            });
            let mut encoder =
                self.gpu
                    .device
                    .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                        label: Some("pigment map readback"),
                    });
            encoder.copy_texture_to_buffer(
                wgpu::TexelCopyTextureInfo {
                    texture: map,
                    mip_level: level,
                    origin: wgpu::Origin3d::ZERO,
                    aspect: wgpu::TextureAspect::All,
                },
                wgpu::TexelCopyBufferInfo {
                    buffer: &buffer,
                    layout: wgpu::TexelCopyBufferLayout {
                        offset: 0,
                        bytes_per_row: Some(padded),
                        rows_per_image: Some(h),
                    },
                },
                wgpu::Extent3d {
                    width: w,
                    height: h,
                    depth_or_array_layers: 1,
                },
            );
            self.gpu.queue.submit([encoder.finish()]);
            let bytes = readback::map_and_copy(&self.gpu, &buffer, padded, row, h)?;
            let halves: &[half::f16] = bytemuck::cast_slice(&bytes);
            levels.push(
                halves
                    .chunks_exact(4)
                    .map(|t| [t[0].to_f32(), t[1].to_f32(), t[2].to_f32(), t[3].to_f32()])
                    .collect(),
            );
        }
        Ok(Some(levels))
    }

    /// The head's surface charts (the pigment map is an atlas of them).
    pub fn surface_charts<'a>(&self, scene: &'a GpuScene) -> &'a SurfaceCharts {
        &scene.charts
    }

    /// Whether any dot can be close enough to need the near (single-dot) pass: the same test
    /// as `far_weight` in the shaders, at the nearest point any dot can have. The supersample
    /// does not enter: the output pixel decides.
    pub fn near_pass_needed(scene: &GpuScene, settings: &FrameSettings) -> bool {
        if !settings.show_dots || !settings.single_dots || scene.dot_count == 0 {
            return false;
        }
        let cam = &settings.camera;
        let nearest = ((cam.eye_mm - scene.pigment_origin_mm).length() - scene.dots_max_radius_mm)
            .max(cam.near_mm);
        map_resolves_less_than_pixel(nearest, cam, settings.height, scene.texel_mm)
    }

    /// Whether any hair can be close enough for the stubble pass to draw shafts (the test of
    /// `stubble_far_weight` in the shaders at the nearest point any hair can have).
    fn stubble_pass_needed(scene: &GpuScene, settings: &FrameSettings) -> bool {
        if scene.hair_count == 0 {
            return false;
        }
        let cam = &settings.camera;
        let nearest = ((cam.eye_mm - scene.pigment_origin_mm).length()
            - scene.hairs_max_radius_mm
            - scene.stubble.length_mm)
            .max(cam.near_mm);
        let pixel_mm = nearest * cam.pixel_angle_rad(settings.height * settings.supersample);
        pixel_mm < stubble_pass::STUBBLE_FAR_PIXEL_MM
    }

    fn check_size(&self, s: &FrameSettings) -> Result<(), RenderError> {
        if s.width == 0 || s.height == 0 || !(1..=4).contains(&s.supersample) {
            return Err(RenderError::BadSize {
                width: s.width,
                height: s.height,
                supersample: s.supersample,
            });
        }
        // Frames beyond the adapter's texture limit render as tiles; only sizes that would
        // take gigabytes and hours are refused.
        let ss = s.supersample as u64;
        let need = s.width as u64 * s.height as u64 * ss * ss;
        if need > tiles::MAX_FRAME_SAMPLES {
            return Err(RenderError::FrameTooLarge {
                width: s.width,
                height: s.height,
                supersample: s.supersample,
                need,
                max: tiles::MAX_FRAME_SAMPLES,
            });
        }
        Ok(())
    }

    /// Renders one frame and reads it back as 8-bit sRGB RGBA.
    pub fn render(
        &mut self,
        scene: &GpuScene,
        settings: &FrameSettings,
    ) -> Result<image::RgbaImage, RenderError> {
        match self.render_image(scene, settings, BitDepth::Eight)? {
            FrameImage::Eight(image) => Ok(image),
            other => Ok(other.to_rgba8()),
        }
    }

    /// Renders one frame and reads it back as 16-bit sRGB RGBA (the tonemapped frame before
    /// the 8-bit store, encoded on the CPU).
    pub fn render16(
        &mut self,
        scene: &GpuScene,
        settings: &FrameSettings,
    ) -> Result<Rgba16Image, RenderError> {
        match self.render_image(scene, settings, BitDepth::Sixteen)? {
            FrameImage::Sixteen(image) => Ok(image),
            FrameImage::Eight(_) => Err(RenderError::Readback("expected a 16-bit frame".into())),
        }
    }

    /// Renders one frame at `depth` bits; frames larger than one render target are rendered
    /// as tiles and stitched ([`tiles`]).
    pub fn render_image(
        &mut self,
        scene: &GpuScene,
        settings: &FrameSettings,
        depth: BitDepth,
    ) -> Result<FrameImage, RenderError> {
        self.check_size(settings)?;
        self.check_device()?;
        let grid = self.tile_grid(settings);
        let image = if grid.count() > 1 {
            self.render_tiled(scene, settings, depth, grid)
        } else {
            self.render_tile(scene, settings, depth)
        };
        // A device error makes the frame worthless even if the readback went through.
        self.check_device()?;
        if self.pass_timer.enabled {
            log::debug!("pass times (ms): {:?}", self.pass_timer.times());
        }
        image
    }

    /// Turns a device error recorded since the last check into a `RenderError`.
    fn check_device(&self) -> Result<(), RenderError> {
        match self.gpu.take_error() {
            Some(message) => Err(RenderError::Device {
                adapter: self.gpu.summary.to_string(),
                message,
            }),
            None => Ok(()),
        }
    }

    /// Turns per-pass timing on or off (see [`Renderer::pass_times`]).
    pub fn set_pass_timing(&mut self, on: bool) {
        self.pass_timer.enabled = on;
    }

    /// Milliseconds per pass of the last frame rendered with pass timing on.
    pub fn pass_times(&self) -> &[(&'static str, f64)] {
        self.pass_timer.times()
    }

    /// One render target's worth of frame (the whole frame, or one tile of it).
    fn render_tile(
        &mut self,
        scene: &GpuScene,
        settings: &FrameSettings,
        depth: BitDepth,
    ) -> Result<FrameImage, RenderError> {
        let encoder = self.encode_frame(scene, settings);
        let targets = self
            .targets
            .as_ref()
            .expect("encode_frame made the targets");
        readback::finish(&self.gpu, targets, encoder, depth, &mut self.pass_timer)
    }

    /// Records the passes of one frame (shadow, surface, dots, stubble, shade, resolve) into the frame targets (made or remade for its
    /// size) and returns the encoder, ready for the caller to add a readback
    /// ([`Renderer::render_tile`]) or a copy to the screen ([`present`]).
    fn encode_frame(&mut self, scene: &GpuScene, settings: &FrameSettings) -> wgpu::CommandEncoder {
        self.pass_timer.begin();
        self.ensure_targets(settings);
        let mut encoder = self.encode_gbuffer(scene, settings, false, true);
        let targets = self.targets.as_ref().expect("targets were just made");
        self.passes.shade.record(
            &mut encoder,
            targets,
            &self.frame_bind_group,
            &self.passes.shadow.light_bind_group,
        );
        readback::mark(&self.gpu, &mut self.pass_timer, &mut encoder, "shade");
        self.passes.resolve.record(&mut encoder, targets);
        readback::mark(&self.gpu, &mut self.pass_timer, &mut encoder, "resolve");
        encoder
    }

    /// Makes (or remakes) the frame targets for `settings`' size.
    fn ensure_targets(&mut self, settings: &FrameSettings) {
        let (w, h, ss) = (settings.width, settings.height, settings.supersample);
        if !self
            .targets
            .as_ref()
            .is_some_and(|t| t.width == w && t.height == h && t.supersample == ss)
        {
            // Drop the old ones (and the pair's, which share them) before making new ones.
            self.targets = None;
            self.pair_targets = None;
            self.targets = Some(FrameTargets::new(&self.gpu.device, &self.passes, w, h, ss));
        }
    }

    /// Writes the frame uniforms for `settings` and records its G-buffer passes (the shadow
    /// map when `shadow` and it is needed, surface, dots, stubble) into the frame targets, or
    /// with `after_of_pair` into the pair's targets (see [`Renderer::render_before_after`]).
    fn encode_gbuffer(
        &mut self,
        scene: &GpuScene,
        settings: &FrameSettings,
        after_of_pair: bool,
        shadow: bool,
    ) -> wgpu::CommandEncoder {
        let (w, h, ss) = (settings.width, settings.height, settings.supersample);
        let near = Self::near_pass_needed(scene, settings);
        let stubble = Self::stubble_pass_needed(scene, settings);
        log::debug!("near dot pass: {near} ({} dots)", scene.dot_count);
        let cam = &settings.camera;
        let view_proj: Mat4 = cam.view_projection();
        let light = &settings.lighting;
        // Exposure and the camera's mid-tone lift (see `Lighting::exposure_scale`).
        let exposure = light.exposure_scale();
        let lux = |c: Vec3, e: f32| v4(c * e * exposure, 0.0);
        // A grey studio backdrop in the same light, a stop under the subject, white-balanced.
        let backdrop = light.backdrop_radiance() * exposure;
        let skin_albedo = match scene.scan_skin {
            Some(scan) if settings.skin.albedo_from_scan => scan,
            _ => settings.skin.albedo_linear,
        };
        let mut uniforms = FrameUniforms {
            view_proj: view_proj.to_cols_array_2d(),
            inv_view_proj: view_proj.inverse().to_cols_array_2d(),
            camera_pos: v4(cam.eye_mm, 1.0),
            light_dir: v4(light.key.direction_to_light.normalize(), light.key.softness),
            light_color: lux(light.key.color, light.key.illuminance_lux),
            sky_color: lux(light.sky_color, light.sky_lux),
            ground_color: lux(light.ground_color, light.ground_lux),
            skin: v4(skin_albedo, settings.skin.roughness),
            pigment_origin: v4(scene.pigment_origin_mm, scene.texel_mm),
            viewport: [
                (w * ss) as f32,
                (h * ss) as f32,
                cam.pixel_angle_rad(h * ss),
                ss as f32,
            ],
            background_top: v4(backdrop * BACKDROP_TOP, 1.0),
            background_bottom: v4(backdrop * BACKDROP_BOTTOM, 1.0),
            pigment_model: [pigment::HALO_STRENGTH, 0.0, 0.0, 0.0],
            pixel_origin: [0.0; 4],
            skin_detail: [0.0, settings.skin.redness.clamp(0.0, 1.0), 0.0, 0.0],
            hair: v4(
                scene.stubble.darkening(skin_albedo, scene.hair_linear),
                scene.stubble.coverage(),
            ),
            stubble: v4(
                (Vec3::ONE - scene.hair_linear / skin_albedo.max(Vec3::splat(1e-4)))
                    .max(Vec3::ZERO),
                0.0,
            ),
            flags: frame_flags::SKIN_DETAIL
                | if near { frame_flags::NEAR_DOTS } else { 0 }
                | if scene.has_condition {
                    frame_flags::CONDITION
                } else {
                    0
                }
                | if stubble {
                    frame_flags::STUBBLE_SHAFTS
                } else {
                    0
                },
            _pad: [0; 3],
        };
        tiles::apply_sub_frame(&mut uniforms, cam, ss);
        let gpu = &self.gpu;
        gpu.queue
            .write_buffer(&self.frame_buffer, 0, bytemuck::bytes_of(&uniforms));
        let targets = if after_of_pair {
            &self
                .pair_targets
                .as_ref()
                .expect("pair targets were made")
                .0
        } else {
            self.targets.as_ref().expect("targets were made")
        };
        let mut encoder = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("frame"),
            });
        let pigment = if settings.show_dots {
            &scene.pigment
        } else {
            &scene.no_pigment
        };
        if shadow
            && self
                .passes
                .shadow
                .update(&gpu.queue, light, exposure, scene.bounds_mm)
        {
            let drawn_for = Some((scene.id, *light, exposure));
            if !(self.keep_shadow_map && self.shadow_drawn_for == drawn_for) {
                self.passes.shadow.record(
                    &mut encoder,
                    &scene.vertices,
                    &scene.indices,
                    scene.index_count,
                );
                readback::mark(&self.gpu, &mut self.pass_timer, &mut encoder, "shadow");
                self.shadow_drawn_for = drawn_for;
            }
        }
        self.passes.surface.record(
            &mut encoder,
            targets,
            &self.frame_bind_group,
            pigment,
            &scene.albedo,
            &scene.vertices,
            &scene.indices,
            scene.index_count,
        );
        readback::mark(&self.gpu, &mut self.pass_timer, &mut encoder, "surface");
        if near {
            if let Some(dots) = &scene.dots {
                // Margin: the widest a dot's quad can be (halo and blur at a glancing angle).
                let ranges = scene.chunks.visible_ranges(view_proj, cam.eye_mm, 3.0);
                // A tile's halos would be cut at its edges, where the next tile's meet them:
                // tiles draw each dot whole.
                let halos_apart = cam.sub_frame.is_none();
                self.passes.dots.record(
                    &mut encoder,
                    targets,
                    &self.frame_bind_group,
                    dots,
                    &ranges,
                    halos_apart,
                );
            }
            readback::mark(&self.gpu, &mut self.pass_timer, &mut encoder, "dots");
        }
        if stubble && let Some(hairs) = &scene.hairs {
            self.passes.stubble.record(
                &mut encoder,
                targets,
                &self.frame_bind_group,
                hairs,
                scene.hair_count,
            );
            readback::mark(&self.gpu, &mut self.pass_timer, &mut encoder, "stubble");
        }
        encoder
    }

    /// Renders the "before" and the "after" of one view at `depth` bits. When the two differ
    /// only in the pigment (`after` is `before` with `show_dots`, the same skin) and the frame
    /// is one tile, they share all but the pigment: the shadow map is drawn once, the surface
    /// is drawn for each into targets that share depth, normals and tint (for the before only
    /// where it has hair or scars to darken it: else its pigment target would hold exactly
    /// 0), and one shade pass lights both (the key's soft shadow, the costliest part of a
    /// frame on a software rasteriser, found once per pixel). Each image is the one [`Renderer::render_image`]
    /// gives; otherwise this is two calls of it.
    pub fn render_before_after(
        &mut self,
        scene: &GpuScene,
        before: &FrameSettings,
        after: &FrameSettings,
        depth: BitDepth,
    ) -> Result<(FrameImage, FrameImage), RenderError> {
        let pairs = !before.show_dots
            && after.show_dots
            && FrameSettings {
                show_dots: true,
                ..*before
            } == *after
            && std::env::var_os("STIPPLE_NO_PAIR").is_none();
        self.check_size(after)?;
        if !pairs || self.tile_grid(after).count() > 1 {
            let b = self.render_image(scene, before, depth)?;
            return Ok((b, self.render_image(scene, after, depth)?));
        }
        self.check_device()?;
        self.pass_timer.begin();
        self.ensure_targets(after);
        if self.pair_targets.is_none() {
            let main = self.targets.as_ref().expect("targets were just made");
            let sibling = main.sibling(&self.gpu.device, &self.passes);
            let group = self
                .gpu
                .device
                .create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some("shade pair: after's pigment"),
                    layout: &self.passes.shade.pair_layout,
                    entries: &[wgpu::BindGroupEntry {
                        binding: 0,
                        resource: wgpu::BindingResource::TextureView(&sibling.pigment_view),
                    }],
                });
            self.pair_targets = Some((sibling, group));
        }
        // A bald, unscarred scalp has nothing in the before's pigment target (no pigment, no
        // hair): its G-buffer is the after's but for that, and is not drawn.
        let bare = !scene.has_condition && scene.hair_count == 0;
        // Each G-buffer is drawn under its own frame uniforms: the before's are written, its
        // passes submitted, then the after's written (a queue write lands before the next
        // submit's commands).
        if !bare {
            let first = self.encode_gbuffer(scene, before, false, true);
            self.gpu.queue.submit([first.finish()]);
        }
        let mut encoder = self.encode_gbuffer(scene, after, true, bare);
        let main = self.targets.as_ref().expect("targets were just made");
        let (sibling, after_pigment) = self.pair_targets.as_ref().expect("pair targets were made");
        self.passes.shade.record_pair(
            &self.gpu.device,
            &mut encoder,
            main,
            sibling,
            after_pigment,
            &self.frame_bind_group,
            &self.passes.shadow.light_bind_group,
            bare,
        );
        readback::mark(&self.gpu, &mut self.pass_timer, &mut encoder, "shade pair");
        self.passes.resolve.record(&mut encoder, main);
        self.passes.resolve.record(&mut encoder, sibling);
        readback::mark(&self.gpu, &mut self.pass_timer, &mut encoder, "resolve");
        let b = readback::finish(&self.gpu, main, encoder, depth, &mut self.pass_timer);
        let rest = self
            .gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("readback"),
            });
        let a = readback::finish(&self.gpu, sibling, rest, depth, &mut self.pass_timer);
        self.check_device()?;
        if self.pass_timer.enabled {
            log::debug!("pass times (ms): {:?}", self.pass_timer.times());
        }
        Ok((b?, a?))
    }
}

/// The head's vertices for the surface and shadow passes. A textured mesh is split where its
/// corners' UVs differ (the texture's seams); geometry and normals stay those of the welded
/// mesh, so the seam is invisible in shading. `scan_scale` multiplies the scan's vertex colours
/// (the inverse of its measured skin colour).
fn skin_vertices(
    mesh: &crate::head::TriMesh,
    triangle_chart: &[u32],
    scan_scale: Vec3,
) -> (Vec<SkinVertex>, Vec<u32>) {
    let coloured = mesh.vertex_colors.len() == mesh.positions_mm.len();
    let textured = mesh.albedo_map.is_some() && mesh.corner_uvs.len() == mesh.indices.len();
    let normal_mapped = mesh.has_normal_map();
    let vertex = |i: usize, uv: glam::Vec2, chart: u32, tangent: glam::Vec4| {
        let mut tint = mesh.albedo_tint.get(i).copied().unwrap_or(Vec3::ONE);
        if coloured || textured {
            tint *= scan_scale;
        }
        if coloured {
            tint *= mesh.vertex_colors[i];
        }
        SkinVertex {
            position_mm: mesh.positions_mm[i].to_array(),
            normal: mesh.normals[i].to_array(),
            tint: tint.to_array(),
            uv: uv.to_array(),
            chart,
            tangent: tangent.to_array(),
        }
    };
    // A vertex is split where its corners differ in UV (a texture seam), in surface chart
    // (each chart has its own place in the pigment map) or in normal-map tangent. Most
    // vertices have one variant: it is found by the vertex's index, and only the others by a
    // map (a map of every corner cost ~25 ms a prepare on the procedural head, in cache misses).
    type Variant = ([u32; 2], u32, [u32; 4]);
    let mut first = vec![u32::MAX; mesh.positions_mm.len()];
    // Each split vertex's variant, by its index.
    let mut variants: Vec<Variant> = Vec::with_capacity(mesh.positions_mm.len() * 2);
    let mut more: std::collections::HashMap<(u32, Variant), u32> = Default::default();
    let mut vertices = Vec::with_capacity(mesh.positions_mm.len() * 2);
    let indices = mesh
        .indices
        .iter()
        .enumerate()
        .map(|(corner, &i)| {
            let uv = if textured || normal_mapped {
                mesh.corner_uvs[corner]
            } else {
                glam::Vec2::ZERO
            };
            // Zero where there is no normal map: the surface pass then keeps the mesh normal.
            let tangent = if normal_mapped {
                mesh.corner_tangents[corner]
            } else {
                glam::Vec4::ZERO
            };
            let chart = triangle_chart.get(corner / 3).copied().unwrap_or(0);
            let variant = (
                [uv.x.to_bits(), uv.y.to_bits()],
                chart,
                tangent.to_array().map(f32::to_bits),
            );
            let known = match first[i as usize] {
                u32::MAX => None,
                v if variants[v as usize] == variant => Some(v),
                _ => more.get(&(i, variant)).copied(),
            };
            known.unwrap_or_else(|| {
                vertices.push(vertex(i as usize, uv, chart, tangent));
                variants.push(variant);
                let v = vertices.len() as u32 - 1;
                if first[i as usize] == u32::MAX {
                    first[i as usize] = v;
                } else {
                    more.insert((i, variant), v);
                }
                v
            })
        })
        .collect();
    (vertices, indices)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A mesh vertex becomes one GPU vertex per surface chart its corners lie in (its corners
    /// in one chart share it), in corner order, including a vertex that alternates between
    /// charts (the corners past the first variant are looked up, not added again).
    #[test]
    fn a_vertex_is_split_once_per_chart_its_corners_lie_in() {
        // A fan round vertex 0: four triangles, charts 0, 1, 0, 1.
        let mesh = crate::head::TriMesh {
            positions_mm: vec![Vec3::ZERO, Vec3::X, Vec3::Y, Vec3::NEG_X, Vec3::NEG_Y],
            normals: vec![Vec3::Z; 5],
            indices: vec![0, 1, 2, 0, 2, 3, 0, 3, 4, 0, 4, 1],
            ..Default::default()
        };
        let (vertices, indices) = skin_vertices(&mesh, &[0, 0, 0, 0], Vec3::ONE);
        assert_eq!(vertices.len(), 5, "one chart: no split");
        assert_eq!(indices, mesh.indices);
        let (vertices, indices) = skin_vertices(&mesh, &[0, 1, 0, 1], Vec3::ONE);
        // Vertex 0 twice (charts 0 and 1), 2 and 3 and 4 and 1 on the borders twice each.
        assert_eq!(indices, vec![0, 1, 2, 3, 4, 5, 0, 6, 7, 3, 8, 9]);
        assert_eq!(vertices.len(), 10);
        let charts: Vec<u32> = indices
            .iter()
            .map(|&i| vertices[i as usize].chart)
            .collect();
        assert_eq!(charts, vec![0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1]);
        for (corner, &i) in indices.iter().enumerate() {
            let at = mesh.positions_mm[mesh.indices[corner] as usize].to_array();
            assert_eq!(vertices[i as usize].position_mm, at, "corner {corner}");
        }
    }

    /// The near dot pass runs where an output pixel on the skin is smaller than a texel of the
    /// map. With an 85 mm lens and 1080 rows a pixel covers 0.26 mm per metre: 900 mm away
    /// that is 1.6 texels of 0.145 mm (the scan's map) and 600 mm away 1.07, which need no
    /// single dots at any supersample; 500 mm away it is 0.9 texels.
    #[test]
    fn single_dots_are_drawn_where_an_output_pixel_is_under_a_texel() {
        let cam = Camera::macro_view(Vec3::ZERO, Vec3::Z, 200.0, 16.0 / 9.0);
        let cam = Camera {
            vertical_fov_rad: 2.0 * (crate::camera::SENSOR_HEIGHT_MM / (2.0 * 85.0)).atan(),
            ortho_height_mm: None,
            ..cam
        };
        let texel_mm = 0.145;
        assert!(!map_resolves_less_than_pixel(900.0, &cam, 1080, texel_mm));
        assert!(!map_resolves_less_than_pixel(600.0, &cam, 1080, texel_mm));
        assert!(map_resolves_less_than_pixel(500.0, &cam, 1080, texel_mm));
        // A frame twice as tall resolves twice as fine.
        assert!(map_resolves_less_than_pixel(600.0, &cam, 2160, texel_mm));
    }

    /// The flag bits, the near/far threshold and the uniform block's size agree with
    /// `shaders/common.wgsl`.
    #[test]
    fn frame_flags_match_the_shader() {
        for (name, bit) in [
            ("FRAME_NEAR_DOTS", frame_flags::NEAR_DOTS),
            ("FRAME_SKIN_DETAIL", frame_flags::SKIN_DETAIL),
            ("FRAME_CONDITION", frame_flags::CONDITION),
            ("FRAME_STUBBLE_SHAFTS", frame_flags::STUBBLE_SHAFTS),
        ] {
            let line = format!("const {name}: u32 = {bit}u;");
            assert!(COMMON_WGSL.contains(&line), "common.wgsl lacks `{line}`");
        }
        let line = format!("const FAR_ONLY_TEXELS: f32 = {FAR_ONLY_TEXELS:?};");
        assert!(COMMON_WGSL.contains(&line), "common.wgsl lacks `{line}`");
        // WGSL rounds a uniform struct holding a mat4x4 up to 16 bytes.
        assert_eq!(std::mem::size_of::<FrameUniforms>() % 16, 0);
    }
}
