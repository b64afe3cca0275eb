//! Getting a frame back from the GPU: 8-bit sRGB from the resolved output, or 16-bit sRGB
//! from the tonemapped (still linear) Rgba16Float target, box-filtered and encoded on the CPU.
//! Also the optional per-pass timer the benchmark uses.

use super::targets::FrameTargets;
use super::{GpuContext, RenderError};
use std::time::Instant;

/// A 16-bit-per-channel RGBA image (sRGB-encoded, like [`image::RgbaImage`]).
pub type Rgba16Image = image::ImageBuffer<image::Rgba<u16>, Vec<u16>>;

/// Bits per channel of a frame read back from the GPU.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum BitDepth {
    /// The GPU's own sRGB encode of the resolved frame.
    #[default]
    Eight,
    /// The tonemapped frame before the 8-bit store: smooth gradients for print and grading.
    Sixteen,
}

impl BitDepth {
    pub fn bits(self) -> u8 {
        match self {
            BitDepth::Eight => 8,
            BitDepth::Sixteen => 16,
        }
    }
}

/// A rendered frame, sRGB-encoded, at 8 or 16 bits per channel.
#[derive(Clone, Debug, PartialEq)]
pub enum FrameImage {
    Eight(image::RgbaImage),
    Sixteen(Rgba16Image),
}

impl FrameImage {
    pub fn blank(depth: BitDepth, width: u32, height: u32) -> FrameImage {
        match depth {
            BitDepth::Eight => FrameImage::Eight(image::RgbaImage::new(width, height)),
            BitDepth::Sixteen => FrameImage::Sixteen(Rgba16Image::new(width, height)),
        }
    }

    pub fn dimensions(&self) -> (u32, u32) {
        match self {
            FrameImage::Eight(i) => i.dimensions(),
            FrameImage::Sixteen(i) => i.dimensions(),
        }
    }

    pub fn depth(&self) -> BitDepth {
        match self {
            FrameImage::Eight(_) => BitDepth::Eight,
            FrameImage::Sixteen(_) => BitDepth::Sixteen,
        }
    }

    /// Copies `src` into this image with its top-left corner at (x, y), cropping what falls
    /// outside. Both must have the same bit depth.
    pub fn blit(&mut self, src: &FrameImage, x: u32, y: u32) {
        match (self, src) {
            (FrameImage::Eight(d), FrameImage::Eight(s)) => {
                image::imageops::replace(d, s, x as i64, y as i64)
            }
            (FrameImage::Sixteen(d), FrameImage::Sixteen(s)) => {
                image::imageops::replace(d, s, x as i64, y as i64)
            }
            _ => panic!("FrameImage::blit: bit depths differ"),
        }
    }

    /// The frame at 8 bits (16-bit frames are rounded).
    pub fn to_rgba8(&self) -> image::RgbaImage {
        match self {
            FrameImage::Eight(i) => i.clone(),
            FrameImage::Sixteen(i) => {
                let (w, h) = i.dimensions();
                let px = i
                    .as_raw()
                    .iter()
                    .map(|v| ((*v as u32 + 128) / 257) as u8)
                    .collect();
                image::RgbaImage::from_raw(w, h, px).expect("same size")
            }
        }
    }
}

/// Wall-clock time of each pass, measured by submitting and waiting after each one. Off by
/// default: splitting the frame into several submits costs a little on real GPUs.
#[derive(Debug, Default)]
pub struct PassTimer {
    pub(super) enabled: bool,
    last: Option<Instant>,
    times: Vec<(&'static str, f64)>,
}

impl PassTimer {
    pub(super) fn begin(&mut self) {
        self.times.clear();
        self.last = self.enabled.then(Instant::now);
    }

    /// (pass, milliseconds) of the last frame, in pass order; empty when timing is off.
    pub fn times(&self) -> &[(&'static str, f64)] {
        &self.times
    }
}

/// With timing on: submits what `encoder` holds, waits for the GPU, and books the time since
/// the previous mark to `label`; `encoder` is replaced by a fresh one. Off: does nothing.
pub(super) fn mark(
    gpu: &GpuContext,
    timer: &mut PassTimer,
    encoder: &mut wgpu::CommandEncoder,
    label: &'static str,
) {
    if !timer.enabled {
        return;
    }
    let fresh = gpu
        .device
        .create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("frame"),
        });
    let done = std::mem::replace(encoder, fresh);
    gpu.queue.submit([done.finish()]);
    let _ = gpu.device.poll(wgpu::PollType::wait_indefinitely());
    let now = Instant::now();
    if let Some(last) = timer.last.replace(now) {
        timer.times.push((label, (now - last).as_secs_f64() * 1e3));
    }
}

pub(super) fn map_and_copy(
    gpu: &GpuContext,
    buffer: &wgpu::Buffer,
    padded_row: u32,
    row_bytes: u32,
    rows: u32,
) -> Result<Vec<u8>, RenderError> {
    let (tx, rx) = std::sync::mpsc::channel();
    buffer.map_async(wgpu::MapMode::Read, .., move |r| {
        let _ = tx.send(r);
    });
    gpu.device
        .poll(wgpu::PollType::wait_indefinitely())
        .map_err(|e| RenderError::Readback(e.to_string()))?;
    rx.recv()
        .map_err(|e| RenderError::Readback(e.to_string()))?
        .map_err(|e| RenderError::Readback(e.to_string()))?;
    let mut out = Vec::with_capacity(row_bytes as usize * rows as usize);
    {
        let data = buffer
            .get_mapped_range(..)
            .map_err(|e| RenderError::Readback(e.to_string()))?;
        for row in data.chunks(padded_row as usize).take(rows as usize) {
            out.extend_from_slice(&row[..row_bytes as usize]);
        }
    }
    buffer.unmap();
    Ok(out)
}

pub(super) fn copy_to_buffer(
    encoder: &mut wgpu::CommandEncoder,
    texture: &wgpu::Texture,
    buffer: &wgpu::Buffer,
    padded_row: u32,
) {
    let size = texture.size();
    encoder.copy_texture_to_buffer(
        wgpu::TexelCopyTextureInfo {
            texture,
            mip_level: 0,
            origin: wgpu::Origin3d::ZERO,
            aspect: wgpu::TextureAspect::All,
        },
        wgpu::TexelCopyBufferInfo {
            buffer,
            layout: wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(padded_row),
                rows_per_image: Some(size.height),
            },
        },
        wgpu::Extent3d {
            width: size.width,
            height: size.height,
            depth_or_array_layers: 1,
        },
    );
}

pub use crate::scene::linear_to_srgb;

/// Records the copy out of the frame's targets, submits `encoder`, and reads the frame back.
pub(super) fn finish(
    gpu: &GpuContext,
    targets: &FrameTargets,
    mut encoder: wgpu::CommandEncoder,
    depth: BitDepth,
    timer: &mut PassTimer,
) -> Result<FrameImage, RenderError> {
    let (w, h, ss) = (targets.width, targets.height, targets.supersample);
    let image = match depth {
        BitDepth::Eight => {
            copy_to_buffer(
                &mut encoder,
                &targets.output,
                &targets.readback,
                targets.padded_bytes_per_row,
            );
            gpu.queue.submit([encoder.finish()]);
            let pixels = map_and_copy(
                gpu,
                &targets.readback,
                targets.padded_bytes_per_row,
                w * 4,
                h,
            )?;
            FrameImage::Eight(
                image::RgbaImage::from_raw(w, h, pixels)
                    .ok_or_else(|| RenderError::Readback("short read".into()))?,
            )
        }
        BitDepth::Sixteen => {
            // The supersampled, tonemapped frame: box-filter it here exactly as the resolve
            // pass does (in linear light), then sRGB-encode at 16 bits.
            let (sw, sh) = (w * ss, h * ss);
            let row = sw * 8;
            let padded = row.div_ceil(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT)
                * wgpu::COPY_BYTES_PER_ROW_ALIGNMENT;
            let buffer = gpu.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("readback 16-bit"),
                size: padded as u64 * sh as u64,
                usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
                mapped_at_creation: false,
            });
            copy_to_buffer(&mut encoder, &targets.hdr, &buffer, padded);
            gpu.queue.submit([encoder.finish()]);
            let bytes = map_and_copy(gpu, &buffer, padded, row, sh)?;
            let texels: &[half::f16] = bytemuck::cast_slice(&bytes);
            let mut out = Rgba16Image::new(w, h);
            let inv = 1.0 / (ss * ss) as f32;
            for (x, y, p) in out.enumerate_pixels_mut() {
                let mut acc = [0.0f32; 3];
                for sy in 0..ss {
                    let base = ((y * ss + sy) * sw + x * ss) as usize * 4;
                    for sx in 0..ss as usize {
                        for (c, a) in acc.iter_mut().enumerate() {
                            *a += texels[base + sx * 4 + c].to_f32();
                        }
                    }
                }
                let enc = |v: f32| (linear_to_srgb(v * inv) * 65535.0).round() as u16;
                *p = image::Rgba([enc(acc[0]), enc(acc[1]), enc(acc[2]), u16::MAX]);
            }
            FrameImage::Sixteen(out)
        }
    };
    if timer.enabled {
        if let Some(last) = timer.last.take() {
            timer
                .times
                .push(("readback", last.elapsed().as_secs_f64() * 1e3));
        }
    }
    Ok(image)
}
