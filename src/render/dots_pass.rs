//! Pass 2 (`shaders/dots.wgsl`): single dots as instanced decals on the reconstructed skin,
//! added to the G-buffer's pigment target. Skipped when no dot is large enough on screen.
//!
//! Supersampled, each dot is drawn as its two absorbers apart: the core at every sample on a
//! quad its own size, the scattering halo (ten times wider, smooth across several output
//! pixels) once per output pixel into a target of its own, then added to the samples
//! (`shaders/dots_halo.wgsl`). Most of a dot's quad is halo, so this draws about a quarter of
//! the fragments at supersample 2. With one sample a pixel both are drawn together, and so in
//! the tiles of a still too large for one target (a halo target would end at the tile's edge).

use super::shader_module;
use super::targets::{FrameTargets, PIGMENT_FORMAT};

/// One dot as the GPU sees it: 80 bytes, no padding needed.
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct GpuDot {
    pub center_mm: [f32; 3],
    pub radius_mm: f32,
    pub normal: [f32; 3],
    pub edge_mm: f32,
    pub darkening: [f32; 3],
    pub halo_sigma_mm: f32,
    /// The needle's footprint harmonics (`NeedleHand::shape`).
    pub footprint: [f32; 4],
    /// The core disc's darkening (rgb; `DotAppearance::core_darkening`) and w unused: after
    /// the fields the pigment splat reads, so its layout is unchanged. `darkening` is the
    /// dot's mean over its footprint (what the splat adds), the halo's peak what is left.
    pub core: [f32; 4],
}

/// Adding what a pass draws to what the target holds (optical depth sums).
const ADDITIVE: wgpu::BlendComponent = wgpu::BlendComponent {
    src_factor: wgpu::BlendFactor::One,
    dst_factor: wgpu::BlendFactor::One,
    operation: wgpu::BlendOperation::Add,
};

/// A pigment-format target that the pass adds to.
fn additive_target() -> wgpu::ColorTargetState {
    wgpu::ColorTargetState {
        format: PIGMENT_FORMAT,
        blend: Some(wgpu::BlendState {
            color: ADDITIVE,
            alpha: ADDITIVE,
        }),
        write_mask: wgpu::ColorWrites::ALL,
    }
}

/// A pipeline drawing instanced quads (one instance per vertex-buffer record) with the vertex
/// and fragment entries `entries` that add their darkening to a pigment-format target: the
/// single dots and the stubble's shafts.
pub(crate) fn additive_instanced_pipeline(
    device: &wgpu::Device,
    label: &str,
    module: &wgpu::ShaderModule,
    layout: &wgpu::PipelineLayout,
    (vertex_entry, fragment_entry): (&str, &str),
    stride: u64,
    attributes: &[wgpu::VertexAttribute],
) -> wgpu::RenderPipeline {
    device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
        label: Some(label),
        layout: Some(layout),
        vertex: wgpu::VertexState {
            module,
            entry_point: Some(vertex_entry),
            compilation_options: Default::default(),
            buffers: &[Some(wgpu::VertexBufferLayout {
                array_stride: stride,
                step_mode: wgpu::VertexStepMode::Instance,
                attributes,
            })],
        },
        primitive: wgpu::PrimitiveState::default(),
        depth_stencil: None,
        multisample: Default::default(),
        fragment: Some(wgpu::FragmentState {
            module,
            entry_point: Some(fragment_entry),
            compilation_options: Default::default(),
            targets: &[Some(additive_target())],
        }),
        multiview_mask: None,
        cache: None,
    })
}

/// Starts a pass that adds instanced quads to the pigment target (kept from the surface pass),
/// reading the G-buffer: the single dots' and the stubble's. The caller issues the draws.
pub(crate) fn begin_additive_instanced<'e>(
    encoder: &'e mut wgpu::CommandEncoder,
    label: &str,
    pipeline: &wgpu::RenderPipeline,
    targets: &FrameTargets,
    frame: &wgpu::BindGroup,
    instances: &wgpu::Buffer,
) -> wgpu::RenderPass<'e> {
    let mut pass = begin_pass(encoder, label, &targets.pigment_view, wgpu::LoadOp::Load);
    pass.set_pipeline(pipeline);
    pass.set_bind_group(0, frame, &[]);
    pass.set_bind_group(1, &targets.dots_bind_group, &[]);
    pass.set_vertex_buffer(0, instances.slice(..));
    pass
}

/// A render pass into `view`, loading or clearing it first.
fn begin_pass<'e>(
    encoder: &'e mut wgpu::CommandEncoder,
    label: &str,
    view: &wgpu::TextureView,
    load: wgpu::LoadOp<wgpu::Color>,
) -> wgpu::RenderPass<'e> {
    encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
        label: Some(label),
        color_attachments: &[Some(wgpu::RenderPassColorAttachment {
            view,
            depth_slice: None,
            resolve_target: None,
            ops: wgpu::Operations {
                load,
                store: wgpu::StoreOp::Store,
            },
        })],
        depth_stencil_attachment: None,
        timestamp_writes: None,
        occlusion_query_set: None,
        multiview_mask: None,
    })
}

pub struct DotsPass {
    /// Core and halo at every sample (one sample a pixel).
    pipeline: wgpu::RenderPipeline,
    /// Supersampled: the cores at every sample, the halos per output pixel, and the pass that
    /// adds those to the samples.
    core_pipeline: wgpu::RenderPipeline,
    halo_pipeline: wgpu::RenderPipeline,
    add_halos_pipeline: wgpu::RenderPipeline,
    pub gbuffer_layout: wgpu::BindGroupLayout,
    /// The halo target's bind group for the adding pass (`FrameTargets::halo`).
    pub halo_layout: wgpu::BindGroupLayout,
    pub halo_sampler: wgpu::Sampler,
    /// Whether supersampled frames draw the halos per output pixel (the default); off, they
    /// draw every dot whole at every sample, which the tests compare against.
    pub(super) halos_per_output_pixel: bool,
}

impl DotsPass {
    pub fn new(device: &wgpu::Device, frame_layout: &wgpu::BindGroupLayout) -> Self {
        let module = shader_module(device, "dots", include_str!("../../shaders/dots.wgsl"));
        let gbuffer_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("dots gbuffer"),
            entries: &[
                super::texture_entry(0, wgpu::TextureSampleType::Uint),
                super::texture_entry(1, wgpu::TextureSampleType::Float { filterable: false }),
            ],
        });
        let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("dots"),
            bind_group_layouts: &[Some(frame_layout), Some(&gbuffer_layout)],
            immediate_size: 0,
        });
        let attributes = wgpu::vertex_attr_array![0 => Float32x4, 1 => Float32x4, 2 => Float32x4, 3 => Float32x4, 4 => Float32x4];
        // Darkening adds up where dots overlap, exactly as the pigment map sums them.
        let instanced = |label: &str, entries: (&str, &str)| {
            additive_instanced_pipeline(
                device,
                label,
                &module,
                &layout,
                entries,
                std::mem::size_of::<GpuDot>() as u64,
                &attributes,
            )
        };
        let pipeline = instanced("dots", ("vs_main", "fs_main"));
        let core_pipeline = instanced("dot cores", ("vs_core", "fs_core"));
        let halo_pipeline = instanced("dot halos", ("vs_main", "fs_halo"));
        let halo_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("dot halos"),
            entries: &[
                super::texture_entry(0, wgpu::TextureSampleType::Float { filterable: false }),
                super::texture_entry(1, wgpu::TextureSampleType::Float { filterable: true }),
                super::sampler_entry(2),
            ],
        });
        let add_halos_module = super::plain_shader_module(
            device,
            "add dot halos",
            &format!(
                "{}\n{}\n{}",
                super::COMMON_WGSL,
                super::FULLSCREEN_WGSL,
                include_str!("../../shaders/dots_halo.wgsl")
            ),
        );
        let add_halos_pipeline = super::fullscreen_pipeline_with(
            device,
            "add dot halos",
            &add_halos_module,
            &device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some("add dot halos"),
                bind_group_layouts: &[Some(frame_layout), Some(&halo_layout)],
                immediate_size: 0,
            }),
            "fs_main",
            &[Some(additive_target())],
            None,
        );
        let halo_sampler = device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("dot halos"),
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            ..Default::default()
        });
        Self {
            pipeline,
            core_pipeline,
            halo_pipeline,
            add_halos_pipeline,
            gbuffer_layout,
            halo_layout,
            halo_sampler,
            halos_per_output_pixel: true,
        }
    }

    pub fn record(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        targets: &FrameTargets,
        frame: &wgpu::BindGroup,
        dots: &wgpu::Buffer,
        ranges: &[std::ops::Range<u32>],
        halos_apart: bool,
    ) {
        let halo = targets
            .halo
            .as_ref()
            .filter(|_| halos_apart && self.halos_per_output_pixel);
        let Some(halo) = halo else {
            let mut pass =
                begin_additive_instanced(encoder, "dots", &self.pipeline, targets, frame, dots);
            for r in ranges {
                pass.draw(0..6, r.clone());
            }
            return;
        };
        {
            let mut pass = begin_additive_instanced(
                encoder,
                "dot cores",
                &self.core_pipeline,
                targets,
                frame,
                dots,
            );
            for r in ranges {
                pass.draw(0..6, r.clone());
            }
        }
        {
            let clear = wgpu::LoadOp::Clear(wgpu::Color::TRANSPARENT);
            let mut pass = begin_pass(encoder, "dot halos", &halo.view, clear);
            pass.set_pipeline(&self.halo_pipeline);
            pass.set_bind_group(0, frame, &[]);
            pass.set_bind_group(1, &targets.dots_bind_group, &[]);
            pass.set_vertex_buffer(0, dots.slice(..));
            for r in ranges {
                pass.draw(0..6, r.clone());
            }
        }
        let mut pass = begin_pass(
            encoder,
            "add dot halos",
            &targets.pigment_view,
            wgpu::LoadOp::Load,
        );
        pass.set_pipeline(&self.add_halos_pipeline);
        pass.set_bind_group(0, frame, &[]);
        pass.set_bind_group(1, &halo.bind_group, &[]);
        pass.draw(0..3, 0..1);
    }
}
