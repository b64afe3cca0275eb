//! PNG files with provenance: every image Stipple writes says in its text chunks which scene,
//! seed and Stipple version made it (and, in a batch, which variant), so a picture found in a
//! slide deck can be traced back and a batch can tell a finished output from a stale one.
//! 8- or 16-bit RGB, and animated PNG (APNG) for turntables. Writes are atomic.

use super::OutputError;
use crate::render::FrameImage;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Text chunk keywords Stipple writes.
pub mod keys {
    /// Standard PNG keyword: "Stipple 0.1.0".
    pub const SOFTWARE: &str = "Software";
    /// Standard PNG keyword: the simulation disclaimer (always written, drawn or not).
    pub const DISCLAIMER: &str = "Disclaimer";
    pub const VERSION: &str = "stipple.version";
    /// The scene file's name (no folders).
    pub const SCENE: &str = "stipple.scene";
    pub const SEED: &str = "stipple.seed";
    pub const VIEW: &str = "stipple.view";
    pub const OUTPUT: &str = "stipple.output";
    /// Batch variant name and the hash of everything that determines its pixels.
    pub const VARIANT: &str = "stipple.variant";
    pub const VARIANT_HASH: &str = "stipple.variant-hash";
}

/// The line drawn on renders (unless turned off) and always written as the `Disclaimer` chunk.
pub const DISCLAIMER_TEXT: &str = "Simulation, not a guarantee of results";

/// Stipple's version, as written into PNGs.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Text chunks for a PNG, in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PngMeta {
    pub entries: Vec<(String, String)>,
}

impl PngMeta {
    /// Software, version and disclaimer.
    pub fn stipple() -> PngMeta {
        PngMeta::default()
            .with(keys::SOFTWARE, format!("Stipple {VERSION}"))
            .with(keys::VERSION, VERSION)
            .with(keys::DISCLAIMER, DISCLAIMER_TEXT)
    }

    /// [`PngMeta::stipple`] plus the scene file's name and the plan's seed.
    pub fn for_scene(scene: &crate::scene::Scene) -> PngMeta {
        let name = scene
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| scene.file.display().to_string());
        PngMeta::stipple()
            .with(keys::SCENE, name)
            .with(keys::SEED, scene.spec.plan.seed.to_string())
    }

    /// Adds (or replaces) an entry.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> PngMeta {
        let (key, value) = (key.into(), value.into());
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some(e) => e.1 = value,
            None => self.entries.push((key, value)),
        }
        self
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

fn encode_error(path: &Path, e: impl std::fmt::Display) -> OutputError {
    OutputError::Encode {
        path: path.to_path_buf(),
        source: image::ImageError::Encoding(image::error::EncodingError::new(
            image::ImageFormat::Png.into(),
            e.to_string(),
        )),
    }
}

fn add_text<W: Write>(
    encoder: &mut ::png::Encoder<'_, W>,
    meta: &PngMeta,
) -> Result<(), ::png::EncodingError> {
    for (k, v) in &meta.entries {
        // tEXt is Latin-1; anything else (a file name in Cyrillic, say) goes in iTXt.
        if v.chars().all(|c| (c as u32) < 0x80) {
            encoder.add_text_chunk(k.clone(), v.clone())?;
        } else {
            encoder.add_itxt_chunk(k.clone(), v.clone())?;
        }
    }
    Ok(())
}

/// Encodes a frame as an RGB PNG (8 or 16 bits per channel, as the frame is) with `meta`.
pub fn encode_png(image: &FrameImage, meta: &PngMeta) -> Result<Vec<u8>, ::png::EncodingError> {
    let (w, h) = image.dimensions();
    let mut out = Vec::new();
    {
        let mut encoder = ::png::Encoder::new(&mut out, w, h);
        encoder.set_color(::png::ColorType::Rgb);
        encoder.set_source_srgb(::png::SrgbRenderingIntent::Perceptual);
        add_text(&mut encoder, meta)?;
        let data: Vec<u8> = match image {
            FrameImage::Eight(img) => {
                encoder.set_depth(::png::BitDepth::Eight);
                img.pixels().flat_map(|p| [p[0], p[1], p[2]]).collect()
            }
            FrameImage::Sixteen(img) => {
                encoder.set_depth(::png::BitDepth::Sixteen);
                // PNG samples are big-endian.
                img.pixels()
                    .flat_map(|p| [p[0], p[1], p[2]])
                    .flat_map(u16::to_be_bytes)
                    .collect()
            }
        };
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&data)?;
        writer.finish()?;
    }
    Ok(out)
}

/// The one writer of every image a command makes: draws the "Simulation, not a guarantee of
/// results" line in the bottom-right corner when `disclaimer` is set (and the image is wide
/// enough to read it), then writes the PNG at the frame's bit depth with `meta` (which always
/// names the disclaimer) in its text chunks, atomically. Returns the image as written.
pub fn write_image(
    path: &Path,
    mut image: FrameImage,
    disclaimer: bool,
    meta: &PngMeta,
) -> Result<FrameImage, OutputError> {
    if disclaimer {
        super::text::draw_disclaimer(&mut image);
    }
    write_png(path, &image, meta)?;
    Ok(image)
}

/// Writes a frame as a PNG with `meta` in its text chunks, atomically, as it is (no
/// disclaimer drawn: see [`write_image`]).
pub fn write_png(path: &Path, image: &FrameImage, meta: &PngMeta) -> Result<(), OutputError> {
    let (w, h) = image.dimensions();
    write_png_rows(path, w, h, image.depth(), meta, |y, row| {
        push_row(image, y, 0, image.dimensions().0, row)
    })
}

/// Appends pixels `x0..x1` of row `y` of `image` to `row` as PNG samples (RGB, 16-bit
/// big-endian).
pub fn push_row(image: &FrameImage, y: u32, x0: u32, x1: u32, row: &mut Vec<u8>) {
    match image {
        FrameImage::Eight(img) => {
            for x in x0..x1 {
                let p = img.get_pixel(x, y);
                row.extend_from_slice(&[p[0], p[1], p[2]]);
            }
        }
        FrameImage::Sixteen(img) => {
            for x in x0..x1 {
                let p = img.get_pixel(x, y);
                for c in 0..3 {
                    row.extend_from_slice(&p[c].to_be_bytes());
                }
            }
        }
    }
}

/// Writes a `width` x `height` RGB PNG atomically, one row at a time: `row(y, buf)` appends
/// row `y`'s samples (3 per pixel, 16-bit ones big-endian) to the empty `buf`. Neither the
/// image nor its compressed bytes are held whole, so a 16384 px still costs no second copy.
pub fn write_png_rows(
    path: &Path,
    width: u32,
    height: u32,
    depth: crate::render::BitDepth,
    meta: &PngMeta,
    mut row: impl FnMut(u32, &mut Vec<u8>),
) -> Result<(), OutputError> {
    let mut file = super::AtomicFile::create(path)?;
    let io = |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    };
    let handle = file.file().try_clone().map_err(io)?;
    let encode = || -> Result<(), ::png::EncodingError> {
        let mut encoder = ::png::Encoder::new(std::io::BufWriter::new(handle), width, height);
        encoder.set_color(::png::ColorType::Rgb);
        encoder.set_depth(match depth {
            crate::render::BitDepth::Eight => ::png::BitDepth::Eight,
            crate::render::BitDepth::Sixteen => ::png::BitDepth::Sixteen,
        });
        encoder.set_source_srgb(::png::SrgbRenderingIntent::Perceptual);
        // fdeflate: several times faster than zlib's default level for files a few per cent
        // larger (a 1080p still: see the README's figures).
        encoder.set_compression(::png::Compression::Fast);
        add_text(&mut encoder, meta)?;
        let mut writer = encoder.write_header()?;
        {
            let mut stream = writer.stream_writer_with_size(1 << 20)?;
            let mut buf = Vec::new();
            for y in 0..height {
                buf.clear();
                row(y, &mut buf);
                stream.write_all(&buf)?;
            }
            stream.finish()?;
        }
        writer.finish()
    };
    encode().map_err(|e| encode_error(path, e))?;
    file.commit()
}

/// Writes an 8-bit frame as a PNG with `meta`, atomically.
pub fn write_png8(
    path: &Path,
    image: &image::RgbaImage,
    meta: &PngMeta,
) -> Result<(), OutputError> {
    let (w, h) = image.dimensions();
    write_png_rows(
        path,
        w,
        h,
        crate::render::BitDepth::Eight,
        meta,
        |y, row| {
            for x in 0..w {
                let p = image.get_pixel(x, y);
                row.extend_from_slice(&[p[0], p[1], p[2]]);
            }
        },
    )
}

/// The most frames an animation (a turntable) may have: one every 0.1 degree of a turn.
pub const MAX_ANIMATION_FRAMES: u32 = 3600;

/// Writes frames as a looping animated PNG (APNG; viewers without APNG support show the first
/// frame), `delay_ms` per frame, atomically.
pub fn write_apng(
    path: &Path,
    frames: &[image::RgbaImage],
    delay_ms: u16,
    meta: &PngMeta,
) -> Result<(), OutputError> {
    let first = frames
        .first()
        .ok_or_else(|| encode_error(path, "an animation needs at least one frame"))?;
    let (w, h) = first.dimensions();
    let mut apng = ApngWriter::create(path, w, h, frames.len() as u32, delay_ms, meta)?;
    for f in frames {
        apng.push(&FrameImage::Eight(f.clone()))?;
    }
    apng.finish()
}

/// An animated PNG written a frame at a time, atomically: memory does not grow with the
/// number of frames. The frame count is fixed up front (APNG's `acTL` chunk comes first).
pub struct ApngWriter {
    path: PathBuf,
    file: super::AtomicFile,
    writer: ::png::Writer<std::io::BufWriter<std::fs::File>>,
    size: (u32, u32),
    frames: u32,
    written: u32,
}

impl ApngWriter {
    /// Starts `path`: `frames` frames of `width` x `height`, 8-bit RGB, `delay_ms` each,
    /// looping. At most [`MAX_ANIMATION_FRAMES`].
    pub fn create(
        path: &Path,
        width: u32,
        height: u32,
        frames: u32,
        delay_ms: u16,
        meta: &PngMeta,
    ) -> Result<ApngWriter, OutputError> {
        if !(1..=MAX_ANIMATION_FRAMES).contains(&frames) {
            return Err(encode_error(
                path,
                format!("an animation has 1 to {MAX_ANIMATION_FRAMES} frames, got {frames}"),
            ));
        }
        let mut file = super::AtomicFile::create(path)?;
        let handle = file.file().try_clone().map_err(|source| OutputError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let start = || -> Result<_, ::png::EncodingError> {
            let mut encoder = ::png::Encoder::new(std::io::BufWriter::new(handle), width, height);
            encoder.set_color(::png::ColorType::Rgb);
            encoder.set_depth(::png::BitDepth::Eight);
            encoder.set_source_srgb(::png::SrgbRenderingIntent::Perceptual);
            encoder.set_animated(frames, 0)?;
            encoder.set_frame_delay(delay_ms, 1000)?;
            add_text(&mut encoder, meta)?;
            encoder.write_header()
        };
        let writer = start().map_err(|e| encode_error(path, e))?;
        Ok(ApngWriter {
            path: path.to_path_buf(),
            file,
            writer,
            size: (width, height),
            frames,
            written: 0,
        })
    }

    /// Appends the next frame (drawn at 8 bits whatever its depth).
    pub fn push(&mut self, frame: &FrameImage) -> Result<(), OutputError> {
        if frame.dimensions() != self.size {
            return Err(encode_error(&self.path, "animation frames differ in size"));
        }
        if self.written == self.frames {
            return Err(encode_error(
                &self.path,
                "more animation frames than announced",
            ));
        }
        let (w, h) = self.size;
        let mut rgb = Vec::with_capacity(3 * w as usize * h as usize);
        match frame {
            FrameImage::Eight(img) => {
                rgb.extend(img.pixels().flat_map(|p| [p[0], p[1], p[2]]));
            }
            FrameImage::Sixteen(img) => {
                // Rounded, as `FrameImage::to_rgba8` does.
                let eight = |v: u16| ((v as u32 + 128) / 257) as u8;
                rgb.extend(
                    img.pixels()
                        .flat_map(|p| [eight(p[0]), eight(p[1]), eight(p[2])]),
                );
            }
        }
        self.writer
            .write_image_data(&rgb)
            .map_err(|e| encode_error(&self.path, e))?;
        self.written += 1;
        Ok(())
    }

    /// Completes the file and renames it into place; every announced frame must be there.
    pub fn finish(self) -> Result<(), OutputError> {
        if self.written != self.frames {
            return Err(encode_error(
                &self.path,
                format!(
                    "{} of {} animation frames written",
                    self.written, self.frames
                ),
            ));
        }
        self.writer
            .finish()
            .map_err(|e| encode_error(&self.path, e))?;
        self.file.commit()
    }
}

/// What [`read_png`] found in a file.
#[derive(Clone, Debug)]
pub struct PngInfo {
    pub width: u32,
    pub height: u32,
    /// Bits per channel.
    pub bit_depth: u8,
    /// Frames (1 for a still PNG).
    pub frames: u32,
    pub meta: PngMeta,
}

#[derive(Debug, thiserror::Error)]
pub enum ReadPngError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a complete PNG: {message}")]
    Decode { path: PathBuf, message: String },
}

/// Decodes a PNG completely (every frame, every checksum) and returns its size, depth and text
/// chunks: a truncated or corrupt file is an error, never a partial image.
pub fn read_png(path: &Path) -> Result<PngInfo, ReadPngError> {
    let decode = |message: String| ReadPngError::Decode {
        path: path.to_path_buf(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|source| ReadPngError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut decoder = ::png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(::png::Transformations::IDENTITY);
    let mut reader = decoder.read_info().map_err(|e| decode(e.to_string()))?;
    let info = reader.info();
    let (width, height) = info.size();
    let bit_depth = info.bit_depth as u8;
    let frames = info.animation_control().map_or(1, |a| a.num_frames);
    let mut buf = vec![
        0;
        reader
            .output_buffer_size()
            .ok_or_else(|| decode("image too large".into()))?
    ];
    for _ in 0..frames {
        reader
            .next_frame(&mut buf)
            .map_err(|e| decode(e.to_string()))?;
    }
    reader.finish().map_err(|e| decode(e.to_string()))?;
    let info = reader.info();
    let mut meta = PngMeta::default();
    for t in &info.uncompressed_latin1_text {
        meta.entries.push((t.keyword.clone(), t.text.clone()));
    }
    for t in &info.compressed_latin1_text {
        meta.entries.push((
            t.keyword.clone(),
            t.get_text().map_err(|e| decode(e.to_string()))?,
        ));
    }
    for t in &info.utf8_text {
        meta.entries.push((
            t.keyword.clone(),
            t.get_text().map_err(|e| decode(e.to_string()))?,
        ));
    }
    Ok(PngInfo {
        width,
        height,
        bit_depth,
        frames,
        meta,
    })
}
