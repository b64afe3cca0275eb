//! Pass 3 (`shaders/shade.wgsl`): light the G-buffer and tonemap, at the supersampled size.

use super::shader_module;
use super::targets::{FrameTargets, HDR_FORMAT};

pub struct ShadePass {
    pipeline: wgpu::RenderPipeline,
    pub gbuffer_layout: wgpu::BindGroupLayout,
}

impl ShadePass {
    /// `light_layout`: group 2, the other lights, the key's shadow map and the white balance
    /// ([`super::shadow_pass::ShadowPass::light_layout`]).
    pub fn new(
        device: &wgpu::Device,
        frame_layout: &wgpu::BindGroupLayout,
        light_layout: &wgpu::BindGroupLayout,
    ) -> Self {
        let source = concat!(
            include_str!("../../shaders/shadow_light.wgsl"),
            "\n",
            include_str!("../../shaders/shade.wgsl")
        );
        let module = shader_module(device, "shade", source);
        let unfiltered = wgpu::TextureSampleType::Float { filterable: false };
        let gbuffer_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("shade gbuffer"),
            entries: &[
                super::texture_entry(0, wgpu::TextureSampleType::Uint),
                super::texture_entry(1, unfiltered),
                super::texture_entry(2, unfiltered),
                super::texture_entry(3, unfiltered),
            ],
        });
        let pipeline = super::fullscreen_pipeline(
            device,
            "shade",
            &module,
            &[
                Some(frame_layout),
                Some(&gbuffer_layout),
                Some(light_layout),
            ],
            HDR_FORMAT,
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
        lights: &wgpu::BindGroup,
    ) {
        super::fullscreen_draw(
            encoder,
            "shade",
            &self.pipeline,
            &targets.hdr_view,
            &[frame, &targets.shade_bind_group, lights],
        );
    }
}
