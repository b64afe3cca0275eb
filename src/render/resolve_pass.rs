//! Pass 4 (`shaders/resolve.wgsl`): box-filter the supersampled frame down to the output size.

use super::fullscreen_module;
use super::targets::{FrameTargets, OUTPUT_FORMAT};

pub struct ResolvePass {
    pipeline: wgpu::RenderPipeline,
    pub layout: wgpu::BindGroupLayout,
}

impl ResolvePass {
    pub fn new(device: &wgpu::Device) -> Self {
        let module = fullscreen_module(
            device,
            "resolve",
            include_str!("../../shaders/resolve.wgsl"),
        );
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("resolve"),
            entries: &[
                super::texture_entry(0, wgpu::TextureSampleType::Float { filterable: false }),
                wgpu::BindGroupLayoutEntry {
                    binding: 1,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    count: None,
                },
            ],
        });
        let pipeline =
            super::fullscreen_pipeline(device, "resolve", &module, &[Some(&layout)], OUTPUT_FORMAT);
        Self { pipeline, layout }
    }

    pub fn record(&self, encoder: &mut wgpu::CommandEncoder, targets: &FrameTargets) {
        super::fullscreen_draw(
            encoder,
            "resolve",
            &self.pipeline,
            &targets.output_view,
            &[&targets.resolve_bind_group],
        );
    }
}
