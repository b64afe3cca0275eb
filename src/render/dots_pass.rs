//! Pass 2 (`shaders/dots.wgsl`): single dots as instanced decals on the reconstructed skin,
//! added to the G-buffer's pigment target. Skipped when no dot is large enough on screen.

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

/// A pipeline drawing instanced quads (one instance per vertex-buffer record) that add their
/// darkening to the pigment target: the single dots and the stubble's shafts.
pub(crate) fn additive_instanced_pipeline(
    device: &wgpu::Device,
    label: &str,
    module: &wgpu::ShaderModule,
    layout: &wgpu::PipelineLayout,
    stride: u64,
    attributes: &[wgpu::VertexAttribute],
) -> wgpu::RenderPipeline {
    let additive = wgpu::BlendComponent {
        src_factor: wgpu::BlendFactor::One,
        dst_factor: wgpu::BlendFactor::One,
        operation: wgpu::BlendOperation::Add,
    };
    device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
        label: Some(label),
        layout: Some(layout),
        vertex: wgpu::VertexState {
            module,
            entry_point: Some("vs_main"),
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
            entry_point: Some("fs_main"),
            compilation_options: Default::default(),
            targets: &[Some(wgpu::ColorTargetState {
                format: PIGMENT_FORMAT,
                blend: Some(wgpu::BlendState {
                    color: additive,
                    alpha: additive,
                }),
                write_mask: wgpu::ColorWrites::ALL,
            })],
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
    let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
        label: Some(label),
        color_attachments: &[Some(wgpu::RenderPassColorAttachment {
            view: &targets.pigment_view,
            depth_slice: None,
            resolve_target: None,
            ops: wgpu::Operations {
                load: wgpu::LoadOp::Load,
                store: wgpu::StoreOp::Store,
            },
        })],
        depth_stencil_attachment: None,
        timestamp_writes: None,
        occlusion_query_set: None,
        multiview_mask: None,
    });
    pass.set_pipeline(pipeline);
    pass.set_bind_group(0, frame, &[]);
    pass.set_bind_group(1, &targets.dots_bind_group, &[]);
    pass.set_vertex_buffer(0, instances.slice(..));
    pass
}

pub struct DotsPass {
    pipeline: wgpu::RenderPipeline,
    pub gbuffer_layout: wgpu::BindGroupLayout,
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
        let pipeline = additive_instanced_pipeline(
            device,
            "dots",
            &module,
            &layout,
            std::mem::size_of::<GpuDot>() as u64,
            &attributes,
        );
        Self {
            pipeline,
            gbuffer_layout,
        }
    }

    pub fn record(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        targets: &FrameTargets,
        frame: &wgpu::BindGroup,
        dots: &wgpu::Buffer,
        ranges: &[std::ops::Range<u32>],
    ) {
        let mut pass =
            begin_additive_instanced(encoder, "dots", &self.pipeline, targets, frame, dots);
        for r in ranges {
            pass.draw(0..6, r.clone());
        }
    }
}
