//! Preparation pass (`shaders/pigment_splat.wgsl`, `shaders/box_mip.wgsl`): the pigment map
//! splatted by the GPU, once per plan (or per session / ageing change, see
//! [`super::Renderer::prepare_dots`]).
//!
//! The placed splats ([`crate::bake::pigment_map::AtlasPlacement`]: each dot on its surface chart and
//! the charts whose margin it lies in, plain data shared with the CPU sum) are drawn as
//! instanced quads over the texels each halo reaches inside its chart, Gaussian weights
//! normalised over the window, added into a float target: the same sums as the CPU reference
//! [`crate::bake::pigment_map::PigmentMap::sum`], which the tests compare it with. A fullscreen pass
//! then copies the atlas into the RGBA16F map and box-filters its mips.
//!
//! The sum is kept in 32-bit floats where the adapter can blend them (`FLOAT32_BLENDABLE`; Mesa's
//! llvmpipe and lavapipe can), otherwise in 16-bit floats (a little rounding in dense areas).

use super::fullscreen_module;
use crate::bake::pigment_map::{AtlasPlacement, BILINEAR_SIGMA_TEXELS, MAX_SPLAT_TEXELS, Splat};
use crate::bake::surface_charts::ATLAS_MIP_LEVELS;

/// The pigment map's format: filterable everywhere, enough for a darkening fraction.
pub const PIGMENT_MAP_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba16Float;

/// The splat's uniforms (`Atlas` in `shaders/pigment_splat.wgsl`).
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
struct SplatUniforms {
    bilinear_sigma_texels: f32,
    max_reach_texels: f32,
    width: f32,
    height: f32,
}

pub struct PigmentSplatPass {
    splat_pipeline: wgpu::RenderPipeline,
    splat_layout: wgpu::BindGroupLayout,
    mip_pipeline: wgpu::RenderPipeline,
    mip_layout: wgpu::BindGroupLayout,
    accum_format: wgpu::TextureFormat,
    /// `block` uniforms of the mip pass: 1 (copy level 0) and 2 (average 2x2).
    copy_block: wgpu::Buffer,
    mip_block: wgpu::Buffer,
}

/// Mip levels of a cube map of `size` texels a side, down to 1x1 (as `box_mip_chain`).
pub fn mip_levels(size: u32) -> u32 {
    32 - size.max(1).leading_zeros()
}

/// The splat's instance layout: [`Splat`] (centre and sigma, value, clip rectangle).
const SPLAT_ATTRIBUTES: [wgpu::VertexAttribute; 3] =
    wgpu::vertex_attr_array![0 => Float32x4, 1 => Float32x4, 2 => Uint32x4];

impl PigmentSplatPass {
    pub fn new(device: &wgpu::Device, float32_blendable: bool) -> Self {
        use wgpu::util::DeviceExt;
        let accum_format = if float32_blendable {
            wgpu::TextureFormat::Rgba32Float
        } else {
            wgpu::TextureFormat::Rgba16Float
        };
        let splat_module = super::plain_shader_module(
            device,
            "pigment splat",
            include_str!("../../shaders/pigment_splat.wgsl"),
        );
        let splat_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("pigment splat"),
            entries: &[wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::VERTEX,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Uniform,
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            }],
        });
        let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("pigment splat"),
            bind_group_layouts: &[Some(&splat_layout)],
            immediate_size: 0,
        });
        let additive = wgpu::BlendComponent {
            src_factor: wgpu::BlendFactor::One,
            dst_factor: wgpu::BlendFactor::One,
            operation: wgpu::BlendOperation::Add,
        };
        let splat_pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some("pigment splat"),
            layout: Some(&layout),
            vertex: wgpu::VertexState {
                module: &splat_module,
                entry_point: Some("vs_main"),
                compilation_options: Default::default(),
                buffers: &[Some(wgpu::VertexBufferLayout {
                    array_stride: std::mem::size_of::<Splat>() as u64,
                    step_mode: wgpu::VertexStepMode::Instance,
                    attributes: &SPLAT_ATTRIBUTES,
                })],
            },
            primitive: wgpu::PrimitiveState {
                topology: wgpu::PrimitiveTopology::TriangleStrip,
                ..Default::default()
            },
            depth_stencil: None,
            multisample: Default::default(),
            fragment: Some(wgpu::FragmentState {
                module: &splat_module,
                entry_point: Some("fs_main"),
                compilation_options: Default::default(),
                targets: &[Some(wgpu::ColorTargetState {
                    format: accum_format,
                    blend: Some(wgpu::BlendState {
                        color: additive,
                        alpha: additive,
                    }),
                    write_mask: wgpu::ColorWrites::ALL,
                })],
            }),
            multiview_mask: None,
            cache: None,
        });
        let mip_module = fullscreen_module(
            device,
            "pigment map mips",
            include_str!("../../shaders/box_mip.wgsl"),
        );
        let mip_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("pigment map mips"),
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
        let mip_pipeline = super::fullscreen_pipeline(
            device,
            "pigment map mips",
            &mip_module,
            &[Some(&mip_layout)],
            PIGMENT_MAP_FORMAT,
        );
        let block = |label, b: u32| {
            device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: bytemuck::cast_slice(&[b, 0, 0, 0]),
                usage: wgpu::BufferUsages::UNIFORM,
            })
        };
        Self {
            splat_pipeline,
            splat_layout,
            mip_pipeline,
            mip_layout,
            accum_format,
            copy_block: block("mip copy", 1),
            mip_block: block("mip average", 2),
        }
    }

    /// Whether the sum is kept in 32-bit floats (else 16-bit).
    pub fn accumulates_in_f32(&self) -> bool {
        self.accum_format == wgpu::TextureFormat::Rgba32Float
    }

    /// A new pigment map: the placed splats summed into an atlas with its mips. The work is
    /// submitted; the texture is ready for the next submission.
    pub fn splat(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        placement: &AtlasPlacement,
    ) -> wgpu::Texture {
        use wgpu::util::DeviceExt;
        let (width, height) = (placement.width.max(1), placement.height.max(1));
        let extent = wgpu::Extent3d {
            width,
            height,
            depth_or_array_layers: 1,
        };
        let accum = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("pigment splat sum"),
            size: extent,
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: self.accum_format,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::TEXTURE_BINDING,
            view_formats: &[],
        });
        let map = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("pigment map"),
            size: extent,
            mip_level_count: ATLAS_MIP_LEVELS,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: PIGMENT_MAP_FORMAT,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT
                | wgpu::TextureUsages::TEXTURE_BINDING
                | wgpu::TextureUsages::COPY_SRC,
            view_formats: &[],
        });
        let level_view = |t: &wgpu::Texture, mip: u32| {
            t.create_view(&wgpu::TextureViewDescriptor {
                dimension: Some(wgpu::TextureViewDimension::D2),
                base_mip_level: mip,
                mip_level_count: Some(1),
                ..Default::default()
            })
        };
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("pigment map"),
        });
        let uniforms = SplatUniforms {
            bilinear_sigma_texels: BILINEAR_SIGMA_TEXELS,
            max_reach_texels: MAX_SPLAT_TEXELS,
            width: width as f32,
            height: height as f32,
        };
        let buffer = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("pigment splat atlas"),
            contents: bytemuck::bytes_of(&uniforms),
            usage: wgpu::BufferUsages::UNIFORM,
        });
        let group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("pigment splat atlas"),
            layout: &self.splat_layout,
            entries: &[wgpu::BindGroupEntry {
                binding: 0,
                resource: buffer.as_entire_binding(),
            }],
        });
        let instances = (!placement.splats.is_empty()).then(|| {
            device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("pigment splats"),
                contents: bytemuck::cast_slice(&placement.splats),
                usage: wgpu::BufferUsages::VERTEX,
            })
        });
        {
            let target = level_view(&accum, 0);
            let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("pigment splat"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: &target,
                    depth_slice: None,
                    resolve_target: None,
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(wgpu::Color::TRANSPARENT),
                        store: wgpu::StoreOp::Store,
                    },
                })],
                depth_stencil_attachment: None,
                timestamp_writes: None,
                occlusion_query_set: None,
                multiview_mask: None,
            });
            if let Some(instances) = &instances {
                pass.set_pipeline(&self.splat_pipeline);
                pass.set_bind_group(0, &group, &[]);
                pass.set_vertex_buffer(0, instances.slice(..));
                pass.draw(0..4, 0..placement.splats.len() as u32);
            }
        }
        for level in 0..ATLAS_MIP_LEVELS {
            let (src, block) = if level == 0 {
                (level_view(&accum, 0), &self.copy_block)
            } else {
                (level_view(&map, level - 1), &self.mip_block)
            };
            let group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("pigment map mip"),
                layout: &self.mip_layout,
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: wgpu::BindingResource::TextureView(&src),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: block.as_entire_binding(),
                    },
                ],
            });
            super::fullscreen_draw(
                &mut encoder,
                "pigment map mip",
                &self.mip_pipeline,
                &level_view(&map, level),
                &[&group],
            );
        }
        queue.submit([encoder.finish()]);
        map
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The splat's shaders parse and validate (no GPU needed).
    #[test]
    fn shaders_validate() {
        use wgpu::naga;
        let sources = [
            include_str!("../../shaders/pigment_splat.wgsl").to_string(),
            format!(
                "{}\n{}",
                include_str!("../../shaders/fullscreen.wgsl"),
                include_str!("../../shaders/box_mip.wgsl")
            ),
        ];
        for source in sources {
            let module = naga::front::wgsl::parse_str(&source)
                .unwrap_or_else(|e| panic!("{}", e.emit_to_string(&source)));
            naga::valid::Validator::new(
                naga::valid::ValidationFlags::all(),
                naga::valid::Capabilities::all(),
            )
            .validate(&module)
            .unwrap_or_else(|e| panic!("{e:?}"));
        }
    }

    #[test]
    fn mip_levels_reach_one_texel() {
        assert_eq!(mip_levels(1), 1);
        assert_eq!(mip_levels(256), 9);
        assert_eq!(mip_levels(1024), 11);
    }

    #[test]
    fn uniforms_and_instances_match_the_shader() {
        assert_eq!(std::mem::size_of::<SplatUniforms>(), 16);
        assert_eq!(std::mem::size_of::<Splat>(), 48);
    }
}
