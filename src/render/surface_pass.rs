//! Pass 1 (`shaders/surface.wgsl`): the head mesh into the G-buffer, with far-field pigment.

use super::targets::{FrameTargets, GBUFFER_FORMATS};
use super::{DEPTH_FORMAT, GpuContext, sampler_entry, shader_module, texture_entry};
use crate::head::TriMesh;

pub struct SurfacePass {
    pipeline: wgpu::RenderPipeline,
    pub pigment_layout: wgpu::BindGroupLayout,
    /// Group 2: the scan's colour texture, its sampler and its normal map.
    pub albedo_layout: wgpu::BindGroupLayout,
}

/// Vertex layout of the head mesh: position, normal, albedo tint (vec3<f32>), texture
/// coordinates (vec2<f32>, origin top-left), surface chart (the pigment map's, see
/// [`super::surface_charts`]), normal-map tangent (xyz, w the bitangent's sign; all zero for
/// a head without a normal map).
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct SkinVertex {
    pub position_mm: [f32; 3],
    pub normal: [f32; 3],
    pub tint: [f32; 3],
    pub uv: [f32; 2],
    pub chart: u32,
    pub tangent: [f32; 4],
}

impl SurfacePass {
    pub fn new(device: &wgpu::Device, frame_layout: &wgpu::BindGroupLayout) -> Self {
        let module = shader_module(
            device,
            "surface",
            include_str!("../../shaders/surface.wgsl"),
        );
        let pigment_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("pigment map"),
            entries: &[
                texture_entry(0, wgpu::TextureSampleType::Float { filterable: true }),
                sampler_entry(1),
                // The scalp map (hair fraction, scar tissue), sampled like the pigment map.
                wgpu::BindGroupLayoutEntry {
                    binding: 2,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Texture {
                        sample_type: wgpu::TextureSampleType::Float { filterable: true },
                        view_dimension: wgpu::TextureViewDimension::Cube,
                        multisampled: false,
                    },
                    count: None,
                },
                // The chart table: where each surface chart lies in the pigment map.
                texture_entry(3, wgpu::TextureSampleType::Float { filterable: false }),
            ],
        });
        let albedo_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("scan albedo"),
            entries: &[
                texture_entry(0, wgpu::TextureSampleType::Float { filterable: true }),
                sampler_entry(1),
                // The scan's normal map (linear), read with the colour texture's sampler.
                texture_entry(2, wgpu::TextureSampleType::Float { filterable: true }),
            ],
        });
        let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("surface"),
            bind_group_layouts: &[
                Some(frame_layout),
                Some(&pigment_layout),
                Some(&albedo_layout),
            ],
            immediate_size: 0,
        });
        let attributes = wgpu::vertex_attr_array![0 => Float32x3, 1 => Float32x3, 2 => Float32x3, 3 => Float32x2, 4 => Uint32, 5 => Float32x4];
        let targets: Vec<Option<wgpu::ColorTargetState>> =
            GBUFFER_FORMATS.iter().map(|f| Some((*f).into())).collect();
        let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some("surface"),
            layout: Some(&layout),
            vertex: wgpu::VertexState {
                module: &module,
                entry_point: Some("vs_main"),
                compilation_options: Default::default(),
                buffers: &[Some(wgpu::VertexBufferLayout {
                    array_stride: std::mem::size_of::<SkinVertex>() as u64,
                    step_mode: wgpu::VertexStepMode::Vertex,
                    attributes: &attributes,
                })],
            },
            primitive: wgpu::PrimitiveState {
                cull_mode: Some(wgpu::Face::Back),
                ..Default::default()
            },
            depth_stencil: Some(wgpu::DepthStencilState {
                format: DEPTH_FORMAT,
                depth_write_enabled: Some(true),
                depth_compare: Some(wgpu::CompareFunction::Less),
                stencil: Default::default(),
                bias: Default::default(),
            }),
            multisample: Default::default(),
            fragment: Some(wgpu::FragmentState {
                module: &module,
                entry_point: Some("fs_main"),
                compilation_options: Default::default(),
                targets: &targets,
            }),
            multiview_mask: None,
            cache: None,
        });
        Self {
            pipeline,
            pigment_layout,
            albedo_layout,
        }
    }

    /// Group 2 for a head: the scan's colour texture (sRGB) and normal map (linear, its scale
    /// applied), each with its mips; one white texel, or one flat normal, where the head has
    /// none.
    pub fn scan_textures(&self, gpu: &GpuContext, mesh: &TriMesh) -> wgpu::BindGroup {
        let uvs = mesh.corner_uvs.len() == mesh.indices.len();
        let albedo = match (&mesh.albedo_map, uvs) {
            (Some(map), true) => map.image.clone(),
            _ => image::RgbaImage::from_pixel(1, 1, image::Rgba([255; 4])),
        };
        let normals = match &mesh.normal_map {
            Some(map) if mesh.has_normal_map() => map.scaled_image(),
            _ => image::RgbaImage::from_pixel(1, 1, image::Rgba([128, 128, 255, 255])),
        };
        let albedo = upload_with_mips(
            gpu,
            "scan albedo",
            albedo,
            wgpu::TextureFormat::Rgba8UnormSrgb,
        );
        let normals = upload_with_mips(
            gpu,
            "scan normal map",
            normals,
            wgpu::TextureFormat::Rgba8Unorm,
        );
        let sampler = gpu.device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("scan albedo"),
            address_mode_u: wgpu::AddressMode::Repeat,
            address_mode_v: wgpu::AddressMode::Repeat,
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            mipmap_filter: wgpu::MipmapFilterMode::Linear,
            ..Default::default()
        });
        gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("scan albedo"),
            layout: &self.albedo_layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: wgpu::BindingResource::TextureView(&albedo),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::Sampler(&sampler),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: wgpu::BindingResource::TextureView(&normals),
                },
            ],
        })
    }

    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        targets: &FrameTargets,
        frame: &wgpu::BindGroup,
        pigment: &wgpu::BindGroup,
        albedo: &wgpu::BindGroup,
        vertices: &wgpu::Buffer,
        indices: &wgpu::Buffer,
        index_count: u32,
    ) {
        let clear = |value: f64| wgpu::Operations {
            load: wgpu::LoadOp::Clear(wgpu::Color {
                r: value,
                g: value,
                b: value,
                a: value,
            }),
            store: wgpu::StoreOp::Store,
        };
        // Everything starts empty, except the depth copy, which starts at the far plane
        // (the bits of 1.0f32).
        let attachments: Vec<Option<wgpu::RenderPassColorAttachment>> = targets
            .gbuffer_views()
            .into_iter()
            .enumerate()
            .map(|(i, view)| {
                Some(wgpu::RenderPassColorAttachment {
                    view,
                    depth_slice: None,
                    resolve_target: None,
                    ops: clear(if i == 3 {
                        f32::to_bits(1.0) as f64
                    } else {
                        0.0
                    }),
                })
            })
            .collect();
        let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
            label: Some("surface"),
            color_attachments: &attachments,
            depth_stencil_attachment: Some(wgpu::RenderPassDepthStencilAttachment {
                view: &targets.depth_view,
                depth_ops: Some(wgpu::Operations {
                    load: wgpu::LoadOp::Clear(1.0),
                    store: wgpu::StoreOp::Store,
                }),
                stencil_ops: None,
            }),
            timestamp_writes: None,
            occlusion_query_set: None,
            multiview_mask: None,
        });
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, frame, &[]);
        pass.set_bind_group(1, pigment, &[]);
        pass.set_bind_group(2, albedo, &[]);
        pass.set_vertex_buffer(0, vertices.slice(..));
        pass.set_index_buffer(indices.slice(..), wgpu::IndexFormat::Uint32);
        pass.draw_indexed(0..index_count, 0, 0..1);
    }
}

/// An 8-bit RGBA image as a texture with its mip chain (box-filtered by the image crate), cut
/// to the adapter's largest texture first.
fn upload_with_mips(
    gpu: &GpuContext,
    label: &str,
    mut image: image::RgbaImage,
    format: wgpu::TextureFormat,
) -> wgpu::TextureView {
    let max = gpu.limits().max_texture_dimension_2d;
    if image.width() > max || image.height() > max {
        image = image::imageops::resize(
            &image,
            image.width().min(max),
            image.height().min(max),
            image::imageops::FilterType::Triangle,
        );
    }
    let mut levels = vec![image];
    while let Some(last) = levels.last().filter(|l| l.width() > 1 || l.height() > 1) {
        let (w, h) = ((last.width() / 2).max(1), (last.height() / 2).max(1));
        let next = image::imageops::resize(last, w, h, image::imageops::FilterType::Triangle);
        levels.push(next);
    }
    let (w, h) = levels[0].dimensions();
    let texture = gpu.device.create_texture(&wgpu::TextureDescriptor {
        label: Some(label),
        size: wgpu::Extent3d {
            width: w,
            height: h,
            depth_or_array_layers: 1,
        },
        mip_level_count: levels.len() as u32,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format,
        usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
        view_formats: &[],
    });
    for (level, img) in levels.iter().enumerate() {
        gpu.queue.write_texture(
            wgpu::TexelCopyTextureInfo {
                texture: &texture,
                mip_level: level as u32,
                origin: wgpu::Origin3d::ZERO,
                aspect: wgpu::TextureAspect::All,
            },
            img.as_raw(),
            wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(img.width() * 4),
                rows_per_image: Some(img.height()),
            },
            wgpu::Extent3d {
                width: img.width(),
                height: img.height(),
                depth_or_array_layers: 1,
            },
        );
    }
    texture.create_view(&Default::default())
}
