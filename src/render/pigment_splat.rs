//! Preparation pass (`shaders/pigment_splat.wgsl`, `shaders/box_mip.wgsl`): the pigment map
//! splatted by the GPU, once per plan (or per session / ageing change, see
//! [`super::Renderer::prepare_dots`]).
//!
//! Each dot of the near pass's dot buffer (sorted by cube face, [`super::dot_chunks`]) is drawn
//! as an instanced quad over the texels its halo reaches on its face, its Gaussian weights
//! normalised over those texels and added into a float target: the same sums as the CPU
//! reference [`super::pigment_map::PigmentMap::build`], which the tests compare it with. A
//! fullscreen pass then copies each face into the RGBA16F cube map and box-filters its mips.
//!
//! The sum is kept in 32-bit floats where the adapter can blend them (`FLOAT32_BLENDABLE`; Mesa's
//! llvmpipe and lavapipe can), otherwise in 16-bit floats (a little rounding in dense areas).

use super::fullscreen_module;
use super::pigment_map::{BILINEAR_SIGMA_TEXELS, MAX_SPLAT_TEXELS};
use crate::pigment;
use glam::Vec3;
use std::ops::Range;

/// The pigment map's format: filterable everywhere, enough for a darkening fraction.
pub const PIGMENT_MAP_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba16Float;

/// The splat's uniforms (`Splat` in `shaders/pigment_splat.wgsl`).
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
struct SplatUniforms {
    origin_mm: [f32; 3],
    size: f32,
    face: f32,
    halo_strength: f32,
    max_reach_texels: f32,
    bilinear_sigma_texels: f32,
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
        // The near pass's `GpuDot` records: centre, radius, normal, darkening, halo sigma.
        let attributes = [
            wgpu::VertexAttribute {
                format: wgpu::VertexFormat::Float32x3,
                offset: 0,
                shader_location: 0,
            },
            wgpu::VertexAttribute {
                format: wgpu::VertexFormat::Float32,
                offset: 12,
                shader_location: 1,
            },
            wgpu::VertexAttribute {
                format: wgpu::VertexFormat::Float32x3,
                offset: 16,
                shader_location: 2,
            },
            wgpu::VertexAttribute {
                format: wgpu::VertexFormat::Float32x3,
                offset: 32,
                shader_location: 3,
            },
            wgpu::VertexAttribute {
                format: wgpu::VertexFormat::Float32,
                offset: 44,
                shader_location: 4,
            },
        ];
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
                    array_stride: std::mem::size_of::<super::dots_pass::GpuDot>() as u64,
                    step_mode: wgpu::VertexStepMode::Instance,
                    attributes: &attributes,
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

    /// A new pigment map of `size` texels a side with its mips: the dots of `dots` (the near
    /// pass's buffer), `faces[f]` being the instances on cube face f, splatted around
    /// `origin_mm`. The work is submitted; the texture is ready for the next submission.
    pub fn splat(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        dots: Option<&wgpu::Buffer>,
        faces: &[Range<u32>; 6],
        origin_mm: Vec3,
        size: u32,
    ) -> wgpu::Texture {
        use wgpu::util::DeviceExt;
        let size = size.max(1);
        let levels = mip_levels(size);
        let extent = wgpu::Extent3d {
            width: size,
            height: size,
            depth_or_array_layers: 6,
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
            mip_level_count: levels,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: PIGMENT_MAP_FORMAT,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT
                | wgpu::TextureUsages::TEXTURE_BINDING
                | wgpu::TextureUsages::COPY_SRC,
            view_formats: &[],
        });
        let layer_view = |t: &wgpu::Texture, mip: u32, layer: u32| {
            t.create_view(&wgpu::TextureViewDescriptor {
                dimension: Some(wgpu::TextureViewDimension::D2),
                base_mip_level: mip,
                mip_level_count: Some(1),
                base_array_layer: layer,
                array_layer_count: Some(1),
                ..Default::default()
            })
        };
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("pigment map"),
        });
        for (face, range) in faces.iter().enumerate() {
            let uniforms = SplatUniforms {
                origin_mm: origin_mm.to_array(),
                size: size as f32,
                face: face as f32,
                halo_strength: pigment::HALO_STRENGTH,
                max_reach_texels: MAX_SPLAT_TEXELS,
                bilinear_sigma_texels: BILINEAR_SIGMA_TEXELS,
            };
            let buffer = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("pigment splat face"),
                contents: bytemuck::bytes_of(&uniforms),
                usage: wgpu::BufferUsages::UNIFORM,
            });
            let group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("pigment splat face"),
                layout: &self.splat_layout,
                entries: &[wgpu::BindGroupEntry {
                    binding: 0,
                    resource: buffer.as_entire_binding(),
                }],
            });
            let target = layer_view(&accum, 0, face as u32);
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
            if let Some(dots) = dots
                && !range.is_empty()
            {
                pass.set_pipeline(&self.splat_pipeline);
                pass.set_bind_group(0, &group, &[]);
                pass.set_vertex_buffer(0, dots.slice(..));
                pass.draw(0..4, range.clone());
            }
        }
        for face in 0..6u32 {
            for level in 0..levels {
                let (src, block) = if level == 0 {
                    (layer_view(&accum, 0, face), &self.copy_block)
                } else {
                    (layer_view(&map, level - 1, face), &self.mip_block)
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
                    &layer_view(&map, level, face),
                    &[&group],
                );
            }
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
    fn uniforms_are_two_vec4s() {
        assert_eq!(std::mem::size_of::<SplatUniforms>(), 32);
    }
}
