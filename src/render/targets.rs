//! Per-size render targets (G-buffer, HDR, output, readback) and the bind groups over them.

pub const DEPTH_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Depth32Float;
pub const NORMAL_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba16Float;
/// Float: scar tissue and erythema tint skin above 1 (paler) as well as below; A carries the
/// roughness change (pore detail faded out, smoother scars).
pub const TINT_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba16Float;
/// Float so that overlapping dots add up without clamping or banding.
pub const PIGMENT_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba16Float;
/// The surface's depth again, as the bits of an f32 in a colour target: later passes read it,
/// OpenGL cannot `textureLoad` a depth texture, and R32Float is not renderable everywhere.
/// Twice: r is the point the shadow-terminator offset moves out to the smooth surface (the
/// shade pass lights it), g the flat triangle's, which the dots and hair roots were laid out on
/// (the dot and stubble passes test against it).
pub const SURFACE_DEPTH_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rg32Uint;
pub const GBUFFER_FORMATS: [wgpu::TextureFormat; 4] = [
    NORMAL_FORMAT,
    TINT_FORMAT,
    PIGMENT_FORMAT,
    SURFACE_DEPTH_FORMAT,
];
/// Tonemapped, still linear, at the supersampled size.
pub const HDR_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba16Float;
/// What is written to PNG: sRGB-encoded by the hardware on store.
pub const OUTPUT_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8UnormSrgb;

pub struct FrameTargets {
    pub width: u32,
    pub height: u32,
    pub supersample: u32,
    pub depth_view: wgpu::TextureView,
    pub surface_depth_view: wgpu::TextureView,
    pub normal_view: wgpu::TextureView,
    pub tint_view: wgpu::TextureView,
    pub pigment_view: wgpu::TextureView,
    pub hdr_view: wgpu::TextureView,
    /// Also copied out directly for 16-bit output.
    pub hdr: wgpu::Texture,
    pub output: wgpu::Texture,
    pub output_view: wgpu::TextureView,
    pub readback: wgpu::Buffer,
    pub padded_bytes_per_row: u32,
    pub dots_bind_group: wgpu::BindGroup,
    pub shade_bind_group: wgpu::BindGroup,
    pub resolve_bind_group: wgpu::BindGroup,
    /// Supersampled: the single dots' halos, one texel per output pixel (`dots_pass`).
    pub halo: Option<HaloTarget>,
}

/// The single dots' halos at the output size, and the bind group that adds them to the samples.
pub struct HaloTarget {
    pub view: wgpu::TextureView,
    pub bind_group: wgpu::BindGroup,
}

fn target(
    device: &wgpu::Device,
    label: &str,
    w: u32,
    h: u32,
    format: wgpu::TextureFormat,
) -> wgpu::Texture {
    texture_2d(
        device,
        label,
        (w, h),
        format,
        wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::TEXTURE_BINDING,
    )
}

/// A plain 2-D texture: one mip level, one sample.
pub(crate) fn texture_2d(
    device: &wgpu::Device,
    label: &str,
    (width, height): (u32, u32),
    format: wgpu::TextureFormat,
    usage: wgpu::TextureUsages,
) -> wgpu::Texture {
    device.create_texture(&wgpu::TextureDescriptor {
        label: Some(label),
        size: wgpu::Extent3d {
            width,
            height,
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format,
        usage,
        view_formats: &[],
    })
}

fn tex(binding: u32, view: &wgpu::TextureView) -> wgpu::BindGroupEntry<'_> {
    wgpu::BindGroupEntry {
        binding,
        resource: wgpu::BindingResource::TextureView(view),
    }
}

/// The targets a before/after pair shares: the surface is the same, only the pigment differs.
struct SharedViews {
    depth_view: wgpu::TextureView,
    surface_depth_view: wgpu::TextureView,
    normal_view: wgpu::TextureView,
    tint_view: wgpu::TextureView,
}

impl FrameTargets {
    pub fn gbuffer_views(&self) -> [&wgpu::TextureView; 4] {
        [
            &self.normal_view,
            &self.tint_view,
            &self.pigment_view,
            &self.surface_depth_view,
        ]
    }

    pub fn new(
        device: &wgpu::Device,
        passes: &super::Passes,
        width: u32,
        height: u32,
        supersample: u32,
    ) -> Self {
        let (sw, sh) = (width * supersample, height * supersample);
        let view = |t: &wgpu::Texture| t.create_view(&Default::default());
        let shared = SharedViews {
            depth_view: view(&target(device, "depth", sw, sh, DEPTH_FORMAT)),
            surface_depth_view: view(&target(
                device,
                "surface depth",
                sw,
                sh,
                SURFACE_DEPTH_FORMAT,
            )),
            normal_view: view(&target(device, "normal", sw, sh, NORMAL_FORMAT)),
            tint_view: view(&target(device, "tint", sw, sh, TINT_FORMAT)),
        };
        Self::with_shared(device, passes, width, height, supersample, shared)
    }

    /// Targets of the same size sharing this set's depth, normal and tint (a second frame of
    /// the same view whose surface differs only in its pigment: the "after" of a
    /// before/after pair) with a pigment target, HDR, output and readback of their own.
    pub fn sibling(&self, device: &wgpu::Device, passes: &super::Passes) -> Self {
        let shared = SharedViews {
            depth_view: self.depth_view.clone(),
            surface_depth_view: self.surface_depth_view.clone(),
            normal_view: self.normal_view.clone(),
            tint_view: self.tint_view.clone(),
        };
        Self::with_shared(
            device,
            passes,
            self.width,
            self.height,
            self.supersample,
            shared,
        )
    }

    fn with_shared(
        device: &wgpu::Device,
        passes: &super::Passes,
        width: u32,
        height: u32,
        supersample: u32,
        shared: SharedViews,
    ) -> Self {
        let (sw, sh) = (width * supersample, height * supersample);
        let view = |t: &wgpu::Texture| t.create_view(&Default::default());
        let SharedViews {
            depth_view,
            surface_depth_view,
            normal_view,
            tint_view,
        } = shared;
        let pigment_view = view(&target(device, "pigment", sw, sh, PIGMENT_FORMAT));
        let hdr = texture_2d(
            device,
            "hdr",
            (sw, sh),
            HDR_FORMAT,
            wgpu::TextureUsages::RENDER_ATTACHMENT
                | wgpu::TextureUsages::TEXTURE_BINDING
                | wgpu::TextureUsages::COPY_SRC,
        );
        let hdr_view = view(&hdr);
        let output = texture_2d(
            device,
            "output",
            (width, height),
            OUTPUT_FORMAT,
            wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
        );
        let output_view = view(&output);
        let padded_bytes_per_row = (width * 4).div_ceil(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT)
            * wgpu::COPY_BYTES_PER_ROW_ALIGNMENT;
        let readback = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: padded_bytes_per_row as u64 * height as u64,
            usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
            mapped_at_creation: false,
        });
        let dots_bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("dots gbuffer"),
            layout: &passes.dots.gbuffer_layout,
            entries: &[tex(0, &surface_depth_view), tex(1, &normal_view)],
        });
        let halo = (supersample > 1).then(|| {
            let view = view(&target(device, "dot halos", width, height, PIGMENT_FORMAT));
            let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("dot halos"),
                layout: &passes.dots.halo_layout,
                entries: &[
                    tex(0, &normal_view),
                    tex(1, &view),
                    wgpu::BindGroupEntry {
                        binding: 2,
                        resource: wgpu::BindingResource::Sampler(&passes.dots.halo_sampler),
                    },
                ],
            });
            HaloTarget { view, bind_group }
        });
        let shade_bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("shade gbuffer"),
            layout: &passes.shade.gbuffer_layout,
            entries: &[
                tex(0, &surface_depth_view),
                tex(1, &normal_view),
                tex(2, &tint_view),
                tex(3, &pigment_view),
                tex(4, &passes.shade.lut_view),
                wgpu::BindGroupEntry {
                    binding: 5,
                    resource: wgpu::BindingResource::Sampler(&passes.shade.lut_sampler),
                },
            ],
        });
        let factor = wgpu::util::DeviceExt::create_buffer_init(
            device,
            &wgpu::util::BufferInitDescriptor {
                label: Some("supersample factor"),
                contents: bytemuck::cast_slice(&[supersample, 0, 0, 0]),
                usage: wgpu::BufferUsages::UNIFORM,
            },
        );
        let resolve_bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("resolve"),
            layout: &passes.resolve.layout,
            entries: &[
                tex(0, &hdr_view),
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: factor.as_entire_binding(),
                },
            ],
        });
        Self {
            width,
            height,
            supersample,
            depth_view,
            surface_depth_view,
            normal_view,
            tint_view,
            pigment_view,
            hdr_view,
            hdr,
            output,
            output_view,
            readback,
            padded_bytes_per_row,
            dots_bind_group,
            shade_bind_group,
            resolve_bind_group,
            halo,
        }
    }
}
