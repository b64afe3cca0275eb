//! Frames for a window instead of a file: the same passes render into a texture that
//! stays on the GPU (no readback), and a last pass (`shaders/present.wgsl`) puts the before
//! and after frames on screen with the before/after split and a text overlay. The viewer
//! (`stipple view`) is its only user; the headless path is untouched.

use super::readback::{copy_to_buffer, map_and_copy};
use super::{FrameSettings, GpuContext, GpuScene, RenderError, Renderer};
use std::collections::HashMap;

/// How a frame is kept for the window: the output's sRGB-encoded bytes, read as they are.
const FRAME_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;
/// Screenshots store the composite's encoded values as they are, like a non-sRGB window.
const CAPTURE_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;

/// A rendered frame kept on the GPU: the output's bytes (sRGB-encoded, 8 bits), copied into a
/// plain unorm texture so the present pass composites encoded values without decoding them.
pub struct FrameTexture {
    texture: wgpu::Texture,
    view: wgpu::TextureView,
    pub width: u32,
    pub height: u32,
}

impl FrameTexture {
    pub fn new(gpu: &GpuContext, width: u32, height: u32) -> FrameTexture {
        let texture = super::targets::texture_2d(
            &gpu.device,
            "viewer frame",
            (width, height),
            FRAME_FORMAT,
            wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
        );
        let view = texture.create_view(&Default::default());
        FrameTexture {
            texture,
            view,
            width,
            height,
        }
    }
}

impl Renderer {
    /// Renders one frame into `dest` (which must have the frame's size) and leaves it on the
    /// GPU. Waits for the GPU, so the caller's clock measures the whole frame.
    pub fn render_to(
        &mut self,
        scene: &GpuScene,
        settings: &FrameSettings,
        dest: &FrameTexture,
    ) -> Result<(), RenderError> {
        self.check_size(settings)?;
        if (dest.width, dest.height) != (settings.width, settings.height) {
            return Err(RenderError::BadSize {
                width: dest.width,
                height: dest.height,
                supersample: settings.supersample,
            });
        }
        self.check_device()?;
        let mut encoder = self.encode_frame(scene, settings);
        let targets = self
            .targets
            .as_ref()
            .expect("encode_frame made the targets");
        encoder.copy_texture_to_texture(
            targets.output.as_image_copy(),
            dest.texture.as_image_copy(),
            targets.output.size(),
        );
        self.gpu.queue.submit([encoder.finish()]);
        self.gpu
            .device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| RenderError::Readback(e.to_string()))?;
        self.check_device()
    }

    /// Largest supersample factor (at most `wanted`) a `width` x `height` frame can use
    /// without tiling, which the window path does not do.
    pub fn window_supersample(&self, width: u32, height: u32, wanted: u32) -> u32 {
        let max = self.gpu.limits().max_texture_dimension_2d;
        (1..=wanted.clamp(1, 4))
            .rev()
            .find(|ss| width.max(height) * ss <= max)
            .unwrap_or(1)
    }
}

/// What goes on screen besides the frames.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Composite {
    /// The before/after split line's x in target pixels (before on its left), or None to
    /// show only the after frame.
    pub split_x: Option<f32>,
    /// Half the split line's width in pixels.
    pub split_half_width: f32,
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct PresentUniforms {
    size: [f32; 4],
    style: [f32; 4],
}

/// The last pass of the viewer: frames, split and overlay into a window (or, for a
/// screenshot, into a texture that is read back).
pub struct Presenter {
    layout: wgpu::BindGroupLayout,
    module: wgpu::ShaderModule,
    pipelines: HashMap<wgpu::TextureFormat, wgpu::RenderPipeline>,
    sampler: wgpu::Sampler,
    uniforms: wgpu::Buffer,
    overlay: Option<(wgpu::Texture, wgpu::TextureView)>,
}

impl Presenter {
    pub fn new(gpu: &GpuContext) -> Presenter {
        let device = &gpu.device;
        let module = super::fullscreen_module(
            device,
            "present",
            include_str!("../../shaders/present.wgsl"),
        );
        let float = wgpu::TextureSampleType::Float { filterable: true };
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("present"),
            entries: &[
                super::texture_entry(0, float),
                super::texture_entry(1, float),
                super::texture_entry(2, wgpu::TextureSampleType::Float { filterable: false }),
                wgpu::BindGroupLayoutEntry {
                    binding: 3,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
                    count: None,
                },
                wgpu::BindGroupLayoutEntry {
                    binding: 4,
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
        // Linear: a cheaper frame drawn while the head turns is stretched to the window.
        let sampler = device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("present"),
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            ..Default::default()
        });
        let uniforms = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("present"),
            size: std::mem::size_of::<PresentUniforms>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        Presenter {
            layout,
            module,
            pipelines: HashMap::new(),
            sampler,
            uniforms,
            overlay: None,
        }
    }

    /// Replaces the text overlay: premultiplied RGBA, sRGB-encoded, the target's size.
    pub fn set_overlay(&mut self, gpu: &GpuContext, overlay: &image::RgbaImage) {
        let (w, h) = overlay.dimensions();
        let size = wgpu::Extent3d {
            width: w.max(1),
            height: h.max(1),
            depth_or_array_layers: 1,
        };
        if self.overlay.as_ref().is_none_or(|(t, _)| t.size() != size) {
            let texture = super::targets::texture_2d(
                &gpu.device,
                "overlay",
                (size.width, size.height),
                wgpu::TextureFormat::Rgba8Unorm,
                wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
            );
            let view = texture.create_view(&Default::default());
            self.overlay = Some((texture, view));
        }
        if w == 0 || h == 0 {
            return;
        }
        let (texture, _) = self.overlay.as_ref().expect("made above");
        gpu.queue.write_texture(
            texture.as_image_copy(),
            overlay.as_raw(),
            wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(w * 4),
                rows_per_image: Some(h),
            },
            size,
        );
    }

    fn pipeline(&mut self, gpu: &GpuContext, format: wgpu::TextureFormat) -> &wgpu::RenderPipeline {
        let (layout, module) = (&self.layout, &self.module);
        self.pipelines.entry(format).or_insert_with(|| {
            super::fullscreen_pipeline(&gpu.device, "present", module, &[Some(layout)], format)
        })
    }

    /// Draws `before`/`after` with the split and the overlay into `target`, a `width` x
    /// `height` view of `format`. Without a split, `before` is not read (pass `after`).
    #[allow(clippy::too_many_arguments)]
    pub fn draw(
        &mut self,
        gpu: &GpuContext,
        target: &wgpu::TextureView,
        format: wgpu::TextureFormat,
        (width, height): (u32, u32),
        before: &FrameTexture,
        after: &FrameTexture,
        composite: &Composite,
    ) {
        if self.overlay.is_none() {
            self.set_overlay(gpu, &image::RgbaImage::new(width, height));
        }
        let uniforms = PresentUniforms {
            size: [
                width as f32,
                height as f32,
                composite.split_x.unwrap_or(0.0),
                if composite.split_x.is_some() {
                    1.0
                } else {
                    0.0
                },
            ],
            style: [
                composite.split_half_width,
                if format.is_srgb() { 0.0 } else { 1.0 },
                0.0,
                0.0,
            ],
        };
        gpu.queue
            .write_buffer(&self.uniforms, 0, bytemuck::bytes_of(&uniforms));
        let (_, overlay_view) = self.overlay.as_ref().expect("set above");
        let tex = |binding, view| wgpu::BindGroupEntry {
            binding,
            resource: wgpu::BindingResource::TextureView(view),
        };
        let bind_group = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("present"),
            layout: &self.layout,
            entries: &[
                tex(0, &before.view),
                tex(1, &after.view),
                tex(2, overlay_view),
                wgpu::BindGroupEntry {
                    binding: 3,
                    resource: wgpu::BindingResource::Sampler(&self.sampler),
                },
                wgpu::BindGroupEntry {
                    binding: 4,
                    resource: self.uniforms.as_entire_binding(),
                },
            ],
        });
        let mut encoder = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("present"),
            });
        let pipeline = self.pipeline(gpu, format);
        super::fullscreen_draw(&mut encoder, "present", pipeline, target, &[&bind_group]);
        gpu.queue.submit([encoder.finish()]);
    }

    /// What [`Presenter::draw`] puts on screen, as an image (the screenshot key).
    pub fn capture(
        &mut self,
        gpu: &GpuContext,
        (width, height): (u32, u32),
        before: &FrameTexture,
        after: &FrameTexture,
        composite: &Composite,
    ) -> Result<image::RgbaImage, RenderError> {
        let texture = super::targets::texture_2d(
            &gpu.device,
            "screenshot",
            (width, height),
            CAPTURE_FORMAT,
            wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
        );
        let view = texture.create_view(&Default::default());
        self.draw(
            gpu,
            &view,
            CAPTURE_FORMAT,
            (width, height),
            before,
            after,
            composite,
        );
        let padded = (width * 4).div_ceil(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT)
            * wgpu::COPY_BYTES_PER_ROW_ALIGNMENT;
        let buffer = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("screenshot readback"),
            size: padded as u64 * height as u64,
            usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
            mapped_at_creation: false,
        });
        let mut encoder = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("screenshot"),
            });
        copy_to_buffer(&mut encoder, &texture, &buffer, padded);
        gpu.queue.submit([encoder.finish()]);
        let pixels = map_and_copy(gpu, &buffer, padded, width * 4, height)?;
        image::RgbaImage::from_raw(width, height, pixels)
            .ok_or_else(|| RenderError::Readback("short screenshot read".into()))
    }
}

/// A window's swap chain, configured for the device of a [`GpuContext`].
pub struct WindowSurface {
    surface: wgpu::Surface<'static>,
    config: wgpu::SurfaceConfiguration,
}

impl WindowSurface {
    pub fn new(
        gpu: &GpuContext,
        surface: wgpu::Surface<'static>,
        width: u32,
        height: u32,
    ) -> WindowSurface {
        let caps = surface.get_capabilities(&gpu.adapter);
        // Prefer a plain format: the composite is already sRGB-encoded and goes out as it is
        // (an sRGB surface works too, at the cost of decoding every pixel).
        let format = caps
            .formats
            .iter()
            .copied()
            .find(|f| !f.is_srgb())
            .or_else(|| caps.formats.first().copied())
            .unwrap_or(wgpu::TextureFormat::Bgra8UnormSrgb);
        let config = wgpu::SurfaceConfiguration {
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT,
            format,
            width: width.max(1),
            height: height.max(1),
            present_mode: wgpu::PresentMode::Fifo,
            desired_maximum_frame_latency: 2,
            alpha_mode: caps
                .alpha_modes
                .first()
                .copied()
                .unwrap_or(wgpu::CompositeAlphaMode::Auto),
            view_formats: vec![],
            color_space: wgpu::SurfaceColorSpace::Auto,
        };
        surface.configure(&gpu.device, &config);
        WindowSurface { surface, config }
    }

    pub fn size(&self) -> (u32, u32) {
        (self.config.width, self.config.height)
    }

    pub fn resize(&mut self, gpu: &GpuContext, width: u32, height: u32) {
        if (width, height) != self.size() && width > 0 && height > 0 {
            self.config.width = width;
            self.config.height = height;
            self.surface.configure(&gpu.device, &self.config);
        }
    }

    /// Draws one composite into the window and shows it. False: the window could not take a
    /// frame now (hidden, or being resized); the caller draws again later.
    pub fn present(
        &mut self,
        gpu: &GpuContext,
        presenter: &mut Presenter,
        before: &FrameTexture,
        after: &FrameTexture,
        composite: &Composite,
    ) -> bool {
        let frame = match self.surface.get_current_texture() {
            wgpu::CurrentSurfaceTexture::Success(f)
            | wgpu::CurrentSurfaceTexture::Suboptimal(f) => f,
            wgpu::CurrentSurfaceTexture::Outdated | wgpu::CurrentSurfaceTexture::Lost => {
                self.surface.configure(&gpu.device, &self.config);
                return false;
            }
            _ => return false,
        };
        let view = frame.texture.create_view(&Default::default());
        presenter.draw(
            gpu,
            &view,
            self.config.format,
            self.size(),
            before,
            after,
            composite,
        );
        gpu.queue.present(frame);
        true
    }
}
