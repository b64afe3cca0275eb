//! Pass 3 (`shaders/shade.wgsl`): light the G-buffer and tonemap, at the supersampled size.

use super::shader_module;
use super::targets::{FrameTargets, HDR_FORMAT};

pub struct ShadePass {
    /// `fs_main` where the head was drawn, `fs_background` elsewhere (see
    /// `background_pair_pipeline`).
    pipeline: wgpu::RenderPipeline,
    background_pipeline: wgpu::RenderPipeline,
    /// `fs_pair`: a before and an after of one view, the light found once. Made on first use
    /// (a software adapter compiles each pipeline on the CPU).
    pair_pipeline: std::sync::OnceLock<wgpu::RenderPipeline>,
    /// `fs_pair_bare`: the same when the before has no pigment target of its own.
    bare_pair_pipeline: std::sync::OnceLock<wgpu::RenderPipeline>,
    /// `fs_pair_background`: the backdrop where the head is not. The pair's samples are split
    /// by the surface's depth buffer, the head's to `fs_pair`, the rest to this: on a software
    /// rasteriser the light's shader, run for the backdrop, cost it as much as the head.
    background_pair_pipeline: std::sync::OnceLock<wgpu::RenderPipeline>,
    pair_pipeline_layout: wgpu::PipelineLayout,
    module: wgpu::ShaderModule,
    pub gbuffer_layout: wgpu::BindGroupLayout,
    /// Group 3 of the pair: the after's pigment target.
    pub pair_layout: wgpu::BindGroupLayout,
    /// The pre-integrated skin table ([`crate::skin::preintegrated_table`]) and its sampler.
    pub lut_view: wgpu::TextureView,
    pub lut_sampler: wgpu::Sampler,
}

impl ShadePass {
    /// `light_layout`: group 2, the other lights, the key's shadow map and the white balance
    /// ([`super::shadow_pass::ShadowPass::light_layout`]).
    pub fn new(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        frame_layout: &wgpu::BindGroupLayout,
        light_layout: &wgpu::BindGroupLayout,
    ) -> Self {
        let source = concat!(
            include_str!("../../shaders/fullscreen.wgsl"),
            "\n",
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
                super::texture_entry(4, wgpu::TextureSampleType::Float { filterable: true }),
                wgpu::BindGroupLayoutEntry {
                    binding: 5,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
                    count: None,
                },
            ],
        });
        let lut = crate::skin::preintegrated_table();
        let half: Vec<half::f16> = lut
            .iter()
            .flatten()
            .map(|v| half::f16::from_f32(*v))
            .collect();
        let texture = wgpu::util::DeviceExt::create_texture_with_data(
            device,
            queue,
            &wgpu::TextureDescriptor {
                label: Some("pre-integrated skin"),
                size: wgpu::Extent3d {
                    width: crate::skin::LUT_COS_STEPS as u32,
                    height: crate::skin::LUT_CURVATURE_STEPS as u32,
                    depth_or_array_layers: 1,
                },
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format: wgpu::TextureFormat::Rgba16Float,
                usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
                view_formats: &[],
            },
            wgpu::util::TextureDataOrder::LayerMajor,
            bytemuck::cast_slice(&half),
        );
        let lut_view = texture.create_view(&Default::default());
        let lut_sampler = device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("pre-integrated skin"),
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            ..Default::default()
        });
        let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("shade"),
            bind_group_layouts: &[
                Some(frame_layout),
                Some(&gbuffer_layout),
                Some(light_layout),
            ],
            immediate_size: 0,
        });
        // The samples split by the surface's depth buffer, as in `record_pair`.
        let single = |entry, compare| {
            super::fullscreen_pipeline_with(
                device,
                "shade",
                &module,
                &layout,
                entry,
                &[Some(HDR_FORMAT.into())],
                Some(compare),
            )
        };
        let pipeline = single("fs_main", wgpu::CompareFunction::Greater);
        let background_pipeline = single("fs_background", wgpu::CompareFunction::LessEqual);
        let pair_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("shade pair: after's pigment"),
            entries: &[super::texture_entry(0, unfiltered)],
        });
        let pair_pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("shade pair"),
            bind_group_layouts: &[
                Some(frame_layout),
                Some(&gbuffer_layout),
                Some(light_layout),
                Some(&pair_layout),
            ],
            immediate_size: 0,
        });
        Self {
            pipeline,
            background_pipeline,
            pair_pipeline: Default::default(),
            bare_pair_pipeline: Default::default(),
            background_pair_pipeline: Default::default(),
            pair_pipeline_layout,
            module,
            gbuffer_layout,
            pair_layout,
            lut_view,
            lut_sampler,
        }
    }

    pub fn record(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        targets: &FrameTargets,
        frame: &wgpu::BindGroup,
        lights: &wgpu::BindGroup,
    ) {
        let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
            label: Some("shade"),
            color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                view: &targets.hdr_view,
                depth_slice: None,
                resolve_target: None,
                ops: wgpu::Operations {
                    load: wgpu::LoadOp::Clear(wgpu::Color::BLACK),
                    store: wgpu::StoreOp::Store,
                },
            })],
            depth_stencil_attachment: Some(depth_read(&targets.depth_view)),
            timestamp_writes: None,
            occlusion_query_set: None,
            multiview_mask: None,
        });
        for (i, g) in [frame, &targets.shade_bind_group, lights]
            .into_iter()
            .enumerate()
        {
            pass.set_bind_group(i as u32, g, &[]);
        }
        pass.set_pipeline(&self.background_pipeline);
        pass.draw(0..3, 0..1);
        pass.set_pipeline(&self.pipeline);
        pass.draw(0..3, 0..1);
    }
}

impl ShadePass {
    /// Shades a before (`before`'s G-buffer) and an after (`after`'s pigment over the same
    /// surface; `after_pigment` is its [`ShadePass::pair_layout`] group) into each one's HDR
    /// target at once. `bare`: the before's pigment target was not drawn, as the before has
    /// no darkening anywhere (`fs_pair_bare`).
    #[allow(clippy::too_many_arguments)]
    pub fn record_pair(
        &self,
        device: &wgpu::Device,
        encoder: &mut wgpu::CommandEncoder,
        before: &FrameTargets,
        after: &FrameTargets,
        after_pigment: &wgpu::BindGroup,
        frame: &wgpu::BindGroup,
        lights: &wgpu::BindGroup,
        bare: bool,
    ) {
        let attachment = |view| {
            Some(wgpu::RenderPassColorAttachment {
                view,
                depth_slice: None,
                resolve_target: None,
                ops: wgpu::Operations {
                    load: wgpu::LoadOp::Clear(wgpu::Color::BLACK),
                    store: wgpu::StoreOp::Store,
                },
            })
        };
        let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
            label: Some("shade pair"),
            color_attachments: &[attachment(&before.hdr_view), attachment(&after.hdr_view)],
            // The surface pass's depth (shared by the pair), read to split the samples.
            depth_stencil_attachment: Some(depth_read(&before.depth_view)),
            timestamp_writes: None,
            occlusion_query_set: None,
            multiview_mask: None,
        });
        for (i, g) in [frame, &before.shade_bind_group, lights, after_pigment]
            .into_iter()
            .enumerate()
        {
            pass.set_bind_group(i as u32, g, &[]);
        }
        // The far-plane triangle passes `LessEqual` where the depth is still its clear value
        // (1: no surface there) and `Greater` where the head was drawn. What each sample gets
        // is what fs_pair gives it alone (its own test of the G-buffer's depth stays).
        let background = self.background_pair_pipeline.get_or_init(|| {
            pair_pipeline(
                device,
                &self.module,
                &self.pair_pipeline_layout,
                "fs_pair_background",
                wgpu::CompareFunction::LessEqual,
            )
        });
        pass.set_pipeline(background);
        pass.draw(0..3, 0..1);
        let (pipeline, entry) = if bare {
            (&self.bare_pair_pipeline, "fs_pair_bare")
        } else {
            (&self.pair_pipeline, "fs_pair")
        };
        pass.set_pipeline(pipeline.get_or_init(|| {
            pair_pipeline(
                device,
                &self.module,
                &self.pair_pipeline_layout,
                entry,
                wgpu::CompareFunction::Greater,
            )
        }));
        pass.draw(0..3, 0..1);
    }
}

/// The surface pass's depth buffer, kept as it is: the shade pass only tests against it.
fn depth_read(view: &wgpu::TextureView) -> wgpu::RenderPassDepthStencilAttachment<'_> {
    wgpu::RenderPassDepthStencilAttachment {
        view,
        depth_ops: Some(wgpu::Operations {
            load: wgpu::LoadOp::Load,
            store: wgpu::StoreOp::Store,
        }),
        stencil_ops: None,
    }
}

fn pair_pipeline(
    device: &wgpu::Device,
    module: &wgpu::ShaderModule,
    layout: &wgpu::PipelineLayout,
    entry: &str,
    depth_compare: wgpu::CompareFunction,
) -> wgpu::RenderPipeline {
    super::fullscreen_pipeline_with(
        device,
        "shade pair",
        module,
        layout,
        entry,
        &[Some(HDR_FORMAT.into()), Some(HDR_FORMAT.into())],
        Some(depth_compare),
    )
}
