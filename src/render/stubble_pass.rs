//! Stubble (`shaders/stubble.wgsl`): the client's shaved hair as instanced shafts standing out
//! of the skin, for views close enough to resolve them, added to the G-buffer's pigment target
//! as the shafts' darkening (the shaft is the hair's colour where it covers the skin).
//!
//! Far away the same shafts are part of the surface pass's hair tint
//! ([`crate::skin::Stubble::darkening`]); `stubble_far_weight` in `shaders/common.wgsl` moves
//! them from one to the other with the size of a pixel, and each shaft's drawn coverage has the
//! far field's mean, so the switch changes detail, never the average colour.
//!
//! The shafts themselves are plain data laid out once per client ([`crate::bake::hairs`]).

use super::shader_module;
use super::targets::FrameTargets;
use crate::bake::hairs::HairShaft;

/// Pixel sizes on the skin (mm, per sample) between which drawn shafts hand over to the
/// far-field tint (as in `stubble_far_weight`, `shaders/common.wgsl`).
pub const STUBBLE_FULL_PIXEL_MM: f32 = 0.06;
pub const STUBBLE_FAR_PIXEL_MM: f32 = 0.2;

pub struct StubblePass {
    pipeline: wgpu::RenderPipeline,
}

impl StubblePass {
    /// `gbuffer_layout`: the dots pass's (surface depth bits, normal and far weight).
    pub fn new(
        device: &wgpu::Device,
        frame_layout: &wgpu::BindGroupLayout,
        gbuffer_layout: &wgpu::BindGroupLayout,
    ) -> Self {
        let module = shader_module(
            device,
            "stubble",
            include_str!("../../shaders/stubble.wgsl"),
        );
        let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("stubble"),
            bind_group_layouts: &[Some(frame_layout), Some(gbuffer_layout)],
            immediate_size: 0,
        });
        let attributes = wgpu::vertex_attr_array![0 => Float32x4, 1 => Float32x4, 2 => Float32x4];
        // Shafts add their optical depth to the pigment target, as dots do (shaders/common.wgsl).
        let pipeline = super::dots_pass::additive_instanced_pipeline(
            device,
            "stubble",
            &module,
            &layout,
            ("vs_main", "fs_main"),
            std::mem::size_of::<HairShaft>() as u64,
            &attributes,
        );
        Self { pipeline }
    }

    pub fn record(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        targets: &FrameTargets,
        frame: &wgpu::BindGroup,
        hairs: &wgpu::Buffer,
        count: u32,
    ) {
        let mut pass = super::dots_pass::begin_additive_instanced(
            encoder,
            "stubble",
            &self.pipeline,
            targets,
            frame,
            hairs,
        );
        pass.draw(0..6, 0..count);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpu_hair_is_48_bytes() {
        assert_eq!(std::mem::size_of::<HairShaft>(), 48);
    }
}
