//! Pass 0 (`shaders/shadow.wgsl`): the head's depth seen from the key light, into a shadow map
//! the shade pass samples (`shaders/shadow_light.wgsl`, percentage-closer soft shadows).
//!
//! The projection is orthographic (the key light is distant) and fitted to the head mesh's
//! bounds seen from the light, so the whole head, neck included, is in the map at about
//! 0.15 mm a texel. This pass also owns the uniforms of the other lights and of the white
//! balance (`Lights` in the WGSL), bound to the shade pass as group 2.

use super::surface_pass::SkinVertex;
use crate::lighting::Lighting;
use glam::{Mat4, Vec3};

/// Shadow map resolution (square).
pub const SHADOW_MAP_SIZE: u32 = 2048;
/// The shadow map: light-space depth in 24-bit fixed point in an integer colour target, which
/// every backend can render to and read texel by texel (OpenGL ES can neither `textureLoad` a
/// depth texture nor render to R32Float).
pub const SHADOW_MAP_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::R32Uint;
/// The depth buffer that keeps the nearest surface while the map is drawn.
pub const SHADOW_DEPTH_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Depth32Float;

/// `Lights` in `shaders/shadow_light.wgsl`: 240 bytes, std140-compatible.
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct LightUniforms {
    shadow_view_proj: [[f32; 4]; 4],
    shadow: [f32; 4],
    white_balance: [[f32; 4]; 3],
    fill_dir: [[f32; 4]; 3],
    fill_color: [[f32; 4]; 3],
    counts: [u32; 4],
}

/// The key light's view of the head: an orthographic projection fitted to `bounds` (head-space
/// min and max corners), with its texel size and depth range in millimetres.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ShadowFrustum {
    pub view_proj: Mat4,
    pub texel_mm: f32,
    pub depth_range_mm: f32,
}

impl ShadowFrustum {
    pub fn fit(direction_to_light: Vec3, bounds: (Vec3, Vec3), size: u32) -> ShadowFrustum {
        let l = direction_to_light.normalize_or(Vec3::Y);
        let (lo, hi) = bounds;
        let center = 0.5 * (lo + hi);
        let radius = (0.5 * (hi - lo).length()).max(1.0);
        let up = if l.y.abs() > 0.95 { Vec3::Z } else { Vec3::Y };
        let view = glam::camera::rh::view::look_at_mat4(center + l * (2.0 * radius), center, up);
        let (mut min, mut max) = (Vec3::splat(f32::INFINITY), Vec3::splat(f32::NEG_INFINITY));
        for i in 0..8 {
            let corner = Vec3::new(
                if i & 1 == 0 { lo.x } else { hi.x },
                if i & 2 == 0 { lo.y } else { hi.y },
                if i & 4 == 0 { lo.z } else { hi.z },
            );
            let v = view.transform_point3(corner);
            min = min.min(v);
            max = max.max(v);
        }
        // Square texels, a small margin so that filter taps at the silhouette stay inside.
        let half = 0.5 * (max.x - min.x).max(max.y - min.y) * 1.04 + 2.0;
        let (cx, cy) = (0.5 * (min.x + max.x), 0.5 * (min.y + max.y));
        // View space looks down -Z: near and far are distances.
        let near = -max.z - 5.0;
        let far = -min.z + 5.0;
        let proj = glam::camera::rh::proj::directx::orthographic(
            cx - half,
            cx + half,
            cy - half,
            cy + half,
            near,
            far,
        );
        ShadowFrustum {
            view_proj: proj * view,
            texel_mm: 2.0 * half / size as f32,
            depth_range_mm: far - near,
        }
    }
}

impl LightUniforms {
    /// The uniforms for `lighting` at `exposure`, with the key's shadow fitted to `bounds`.
    pub fn new(
        lighting: &Lighting,
        exposure: f32,
        bounds: (Vec3, Vec3),
        size: u32,
    ) -> LightUniforms {
        let key = &lighting.key;
        let frustum = ShadowFrustum::fit(key.direction_to_light, bounds, size);
        let shadows = lighting.shadows && key.illuminance_lux > 0.0;
        let s = key.softness.clamp(0.0, 0.999);
        let tan_a = s / (1.0 - s * s).sqrt();
        let wb = lighting.white_balance_matrix();
        let mut u = LightUniforms {
            shadow_view_proj: frustum.view_proj.to_cols_array_2d(),
            shadow: [
                frustum.texel_mm,
                frustum.depth_range_mm,
                if shadows { 1.0 } else { 0.0 },
                tan_a,
            ],
            white_balance: [
                wb.x_axis.extend(0.0).to_array(),
                wb.y_axis.extend(0.0).to_array(),
                wb.z_axis.extend(0.0).to_array(),
            ],
            fill_dir: [[0.0; 4]; 3],
            fill_color: [[0.0; 4]; 3],
            counts: [0; 4],
        };
        for (i, f) in lighting.fills().iter().take(3).enumerate() {
            u.fill_dir[i] = f
                .direction_to_light
                .normalize_or(Vec3::Y)
                .extend(f.softness)
                .to_array();
            u.fill_color[i] = (f.color * f.illuminance_lux * exposure)
                .extend(0.0)
                .to_array();
            u.counts[0] += 1;
        }
        u
    }

    pub fn casts_shadows(&self) -> bool {
        self.shadow[2] > 0.5
    }
}

pub struct ShadowPass {
    pipeline: wgpu::RenderPipeline,
    caster_bind_group: wgpu::BindGroup,
    uniforms: wgpu::Buffer,
    map_view: wgpu::TextureView,
    depth_view: wgpu::TextureView,
    /// Group 2 of the shade pass: the `Lights` uniforms and the shadow map (read texel by
    /// texel: the filter weighs each tap by its depth, which a comparison sampler cannot).
    pub light_layout: wgpu::BindGroupLayout,
    pub light_bind_group: wgpu::BindGroup,
}

impl ShadowPass {
    pub fn new(device: &wgpu::Device) -> Self {
        let module =
            super::plain_shader_module(device, "shadow", include_str!("../../shaders/shadow.wgsl"));
        let uniform_entry = |visibility| wgpu::BindGroupLayoutEntry {
            binding: 0,
            visibility,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Uniform,
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        };
        let caster_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("shadow caster"),
            entries: &[uniform_entry(wgpu::ShaderStages::VERTEX)],
        });
        let light_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("lights"),
            entries: &[
                uniform_entry(wgpu::ShaderStages::FRAGMENT),
                super::texture_entry(1, wgpu::TextureSampleType::Uint),
            ],
        });
        let uniforms = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("lights"),
            size: std::mem::size_of::<LightUniforms>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let target = |label: &str, format: wgpu::TextureFormat, usage: wgpu::TextureUsages| {
            device
                .create_texture(&wgpu::TextureDescriptor {
                    label: Some(label),
                    size: wgpu::Extent3d {
                        width: SHADOW_MAP_SIZE,
                        height: SHADOW_MAP_SIZE,
                        depth_or_array_layers: 1,
                    },
                    mip_level_count: 1,
                    sample_count: 1,
                    dimension: wgpu::TextureDimension::D2,
                    format,
                    usage,
                    view_formats: &[],
                })
                .create_view(&Default::default())
        };
        let map_view = target(
            "shadow map",
            SHADOW_MAP_FORMAT,
            wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::TEXTURE_BINDING,
        );
        let depth_view = target(
            "shadow depth",
            SHADOW_DEPTH_FORMAT,
            wgpu::TextureUsages::RENDER_ATTACHMENT,
        );
        let caster_bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("shadow caster"),
            layout: &caster_layout,
            entries: &[wgpu::BindGroupEntry {
                binding: 0,
                resource: uniforms.as_entire_binding(),
            }],
        });
        let light_bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("lights"),
            layout: &light_layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: uniforms.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::TextureView(&map_view),
                },
            ],
        });
        let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("shadow"),
            bind_group_layouts: &[Some(&caster_layout)],
            immediate_size: 0,
        });
        let attributes = [wgpu::VertexAttribute {
            format: wgpu::VertexFormat::Float32x3,
            offset: 0,
            shader_location: 0,
        }];
        let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some("shadow"),
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
                cull_mode: None,
                ..Default::default()
            },
            depth_stencil: Some(wgpu::DepthStencilState {
                format: SHADOW_DEPTH_FORMAT,
                depth_write_enabled: Some(true),
                depth_compare: Some(wgpu::CompareFunction::Less),
                stencil: Default::default(),
                // No raster bias: the map stores the fragment's own depth, and the shade pass
                // biases each lookup (normal offset, receiver plane).
                bias: Default::default(),
            }),
            multisample: Default::default(),
            fragment: Some(wgpu::FragmentState {
                module: &module,
                entry_point: Some("fs_main"),
                compilation_options: Default::default(),
                targets: &[Some(SHADOW_MAP_FORMAT.into())],
            }),
            multiview_mask: None,
            cache: None,
        });
        Self {
            pipeline,
            caster_bind_group,
            uniforms,
            map_view,
            depth_view,
            light_layout,
            light_bind_group,
        }
    }

    /// Writes this frame's light uniforms; returns whether the key casts shadows (whether
    /// [`ShadowPass::record`] has anything to draw).
    pub fn update(
        &self,
        queue: &wgpu::Queue,
        lighting: &Lighting,
        exposure: f32,
        bounds: (Vec3, Vec3),
    ) -> bool {
        let u = LightUniforms::new(lighting, exposure, bounds, SHADOW_MAP_SIZE);
        queue.write_buffer(&self.uniforms, 0, bytemuck::bytes_of(&u));
        u.casts_shadows()
    }

    /// Draws the head's depth into the shadow map.
    pub fn record(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        vertices: &wgpu::Buffer,
        indices: &wgpu::Buffer,
        index_count: u32,
    ) {
        let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
            label: Some("shadow"),
            color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                view: &self.map_view,
                depth_slice: None,
                resolve_target: None,
                ops: wgpu::Operations {
                    // Nothing there: as far as the map goes (depth 1 in 24-bit fixed point).
                    load: wgpu::LoadOp::Clear(wgpu::Color {
                        r: 16_777_215.0,
                        g: 0.0,
                        b: 0.0,
                        a: 0.0,
                    }),
                    store: wgpu::StoreOp::Store,
                },
            })],
            depth_stencil_attachment: Some(wgpu::RenderPassDepthStencilAttachment {
                view: &self.depth_view,
                depth_ops: Some(wgpu::Operations {
                    load: wgpu::LoadOp::Clear(1.0),
                    store: wgpu::StoreOp::Discard,
                }),
                stencil_ops: None,
            }),
            timestamp_writes: None,
            occlusion_query_set: None,
            multiview_mask: None,
        });
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &self.caster_bind_group, &[]);
        pass.set_vertex_buffer(0, vertices.slice(..));
        pass.set_index_buffer(indices.slice(..), wgpu::IndexFormat::Uint32);
        pass.draw_indexed(0..index_count, 0, 0..1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frustum_holds_the_whole_box_from_any_direction() {
        let bounds = (
            Vec3::new(-80.0, -150.0, -100.0),
            Vec3::new(80.0, 110.0, 105.0),
        );
        for d in [
            Vec3::Y,
            Vec3::NEG_Y,
            Vec3::X,
            Vec3::new(0.4, 0.7, 0.6),
            Vec3::new(-0.9, 0.17, 0.2),
        ] {
            let f = ShadowFrustum::fit(d, bounds, 1024);
            for i in 0..8 {
                let c = Vec3::new(
                    if i & 1 == 0 { bounds.0.x } else { bounds.1.x },
                    if i & 2 == 0 { bounds.0.y } else { bounds.1.y },
                    if i & 4 == 0 { bounds.0.z } else { bounds.1.z },
                );
                let p = f.view_proj.project_point3(c);
                assert!(
                    p.x.abs() < 1.0 && p.y.abs() < 1.0 && p.z > 0.0 && p.z < 1.0,
                    "{d}: corner {c} -> {p}"
                );
            }
            // Nearer the light is smaller depth.
            let near = f.view_proj.project_point3(d.normalize() * 50.0).z;
            let far = f.view_proj.project_point3(-d.normalize() * 50.0).z;
            assert!(near < far, "{d}");
            assert!(f.texel_mm > 0.05 && f.texel_mm < 0.5, "{}", f.texel_mm);
        }
    }
}
