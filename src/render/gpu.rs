//! The one GPU context shared by the headless path and the viewer.
//!
//! Adapter choice prefers real hardware and falls back to Mesa's software drivers: the
//! platform's own API first (Vulkan, Metal on macOS, DX12 on Windows), then OpenGL (through
//! EGL: llvmpipe). `STIPPLE_BACKEND` (`vulkan`, `metal`, `dx12`, `gl`) and `STIPPLE_ADAPTER`
//! (a substring of the adapter name) force a choice; the CLI's `--backend` and `--adapter`
//! flags set the same. Metal and DX12 are compiled only on their platforms.

use std::fmt;

/// Which graphics API to look for adapters on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendChoice {
    /// Hardware first (Vulkan, Metal, DX12), then Vulkan software (lavapipe), then GL
    /// software (llvmpipe).
    #[default]
    Auto,
    Vulkan,
    /// macOS.
    Metal,
    /// Windows.
    Dx12,
    Gl,
}

impl BackendChoice {
    /// The groups of backends looked at in turn; a later group only when the earlier ones
    /// offer nothing. `Auto` probes OpenGL last: probing EGL without a display is slow and
    /// noisy, and every GPU worth using has a Vulkan, Metal or DX12 driver.
    fn order(self) -> &'static [wgpu::Backends] {
        const NATIVE: wgpu::Backends = wgpu::Backends::VULKAN
            .union(wgpu::Backends::METAL)
            .union(wgpu::Backends::DX12);
        match self {
            Self::Auto => &[NATIVE, wgpu::Backends::GL],
            Self::Vulkan => &[wgpu::Backends::VULKAN],
            Self::Metal => &[wgpu::Backends::METAL],
            Self::Dx12 => &[wgpu::Backends::DX12],
            Self::Gl => &[wgpu::Backends::GL],
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Auto => "Vulkan, Metal, DX12 and OpenGL/EGL",
            Self::Vulkan => "Vulkan",
            Self::Metal => "Metal",
            Self::Dx12 => "DX12",
            Self::Gl => "OpenGL/EGL",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Some(Self::Auto),
            "vulkan" | "vk" => Some(Self::Vulkan),
            "metal" | "mtl" => Some(Self::Metal),
            "dx12" | "d3d12" => Some(Self::Dx12),
            "gl" | "gles" | "opengl" | "egl" => Some(Self::Gl),
            _ => None,
        }
    }
}

/// The backends this build of Stipple can use on this platform (wgpu compiles Metal only for
/// Apple targets, DX12 only for Windows).
pub fn compiled_backends() -> Vec<&'static str> {
    let enabled = wgpu::Instance::enabled_backend_features();
    [
        (wgpu::Backends::VULKAN, "vulkan"),
        (wgpu::Backends::METAL, "metal"),
        (wgpu::Backends::DX12, "dx12"),
        (wgpu::Backends::GL, "gl"),
    ]
    .into_iter()
    .filter(|(b, _)| enabled.contains(*b))
    .map(|(_, name)| name)
    .collect()
}

/// What the caller asks for; `from_env` fills in the environment's overrides.
#[derive(Clone, Debug, Default)]
pub struct AdapterRequest {
    pub backend: BackendChoice,
    /// Case-insensitive substring of the adapter's name, e.g. `llvmpipe`.
    pub name_contains: Option<String>,
}

impl AdapterRequest {
    /// Overrides from `STIPPLE_BACKEND` and `STIPPLE_ADAPTER` where this request leaves them open.
    pub fn with_env(mut self) -> Result<Self, GpuError> {
        if self.backend == BackendChoice::Auto {
            if let Ok(v) = std::env::var("STIPPLE_BACKEND") {
                self.backend = BackendChoice::parse(&v).ok_or(GpuError::BadBackend(v))?;
            }
        }
        if self.name_contains.is_none() {
            self.name_contains = std::env::var("STIPPLE_ADAPTER")
                .ok()
                .filter(|s| !s.is_empty());
        }
        Ok(self)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    #[error("STIPPLE_BACKEND={0:?}: expected `auto`, `vulkan`, `metal`, `dx12` or `gl`")]
    BadBackend(String),
    #[error("{0}")]
    NoAdapter(String),
    #[error("could not open a device on {adapter}: {source}")]
    Device {
        adapter: String,
        source: wgpu::RequestDeviceError,
    },
}

/// An adapter's description, for `stipple info` and for output metadata.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AdapterSummary {
    pub name: String,
    pub backend: String,
    pub device_type: String,
    pub driver: String,
}

impl AdapterSummary {
    fn of(info: &wgpu::AdapterInfo) -> Self {
        Self {
            name: info.name.clone(),
            backend: format!("{:?}", info.backend),
            device_type: format!("{:?}", info.device_type),
            driver: format!("{} {}", info.driver, info.driver_info)
                .trim()
                .to_string(),
        }
    }
}

impl fmt::Display for AdapterSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}, {}", self.name, self.backend, self.device_type)?;
        if !self.driver.is_empty() {
            write!(f, ", {}", self.driver)?;
        }
        write!(f, ")")
    }
}

/// Device, queue and the adapter they came from.
pub struct GpuContext {
    pub instance: wgpu::Instance,
    pub adapter: wgpu::Adapter,
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub summary: AdapterSummary,
    /// The first device error not yet reported. wgpu's default is to panic on one; Stipple
    /// turns it into an error from the call that caused it (see [`GpuContext::take_error`]).
    device_error: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

type DisplayHandle = Box<dyn wgpu::wgt::WgpuHasDisplayHandle>;
type MakeSurface = dyn Fn(&wgpu::Instance) -> Result<wgpu::Surface<'static>, String>;

/// A window to draw into: a fresh handle to its display for each instance tried, and its
/// surface on that instance.
struct WindowTarget {
    display: Box<dyn Fn() -> DisplayHandle>,
    surface: Box<MakeSurface>,
}

/// Lower is better: real GPUs first, then Vulkan on the CPU, then GL on the CPU.
fn rank(info: &wgpu::AdapterInfo) -> u32 {
    use wgpu::DeviceType::*;
    let base = match info.device_type {
        DiscreteGpu => 0,
        IntegratedGpu => 1,
        VirtualGpu => 2,
        Cpu => 4,
        Other => 6,
    };
    // GL adapters report llvmpipe as `Other` on some drivers: name-sniff software renderers.
    let name = info.name.to_ascii_lowercase();
    let software =
        name.contains("llvmpipe") || name.contains("lavapipe") || name.contains("softpipe");
    let base = if software { base.max(4) } else { base };
    base + u32::from(info.backend == wgpu::Backend::Gl)
}

/// The adapter Stipple takes from one backend group's: the best ranked whose name matches the
/// request's filter.
fn choose(mut adapters: Vec<wgpu::Adapter>, request: &AdapterRequest) -> Option<wgpu::Adapter> {
    if let Some(want) = &request.name_contains {
        let want = want.to_ascii_lowercase();
        adapters.retain(|a| a.get_info().name.to_ascii_lowercase().contains(&want));
    }
    adapters.sort_by_key(|a| rank(&a.get_info()));
    adapters.into_iter().next()
}

/// One adapter as `stipple info` reports it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AdapterReport {
    #[serde(flatten)]
    pub summary: AdapterSummary,
    /// The one Stipple opens for this request.
    pub chosen: bool,
    /// The largest frame (or tile) side in pixels.
    pub max_texture_dimension_2d: u32,
    /// The largest buffer in bytes (dots, readback).
    pub max_buffer_size: u64,
    pub max_storage_buffer_binding_size: u64,
    pub max_color_attachments: u32,
    /// 32-bit float blending: exact pigment map sums (otherwise 16-bit).
    pub float32_blendable: bool,
    /// Where this adapter's pigment maps are splatted: "gpu" or "cpu" (`SplatOn::for_adapter`).
    pub pigment_splat: &'static str,
}

#[cfg(target_os = "macos")]
const INSTALL_HINT: &str = "Stipple needs Metal (macOS 10.13 or later on a Metal-capable Mac).";
#[cfg(windows)]
const INSTALL_HINT: &str = "Stipple needs a DX12, Vulkan or OpenGL driver: install the GPU vendor's \
current driver.";
#[cfg(not(any(target_os = "macos", windows)))]
const INSTALL_HINT: &str = "Stipple needs a Vulkan or OpenGL (EGL) driver. On a machine without a GPU, \
install Mesa's software drivers: `apt-get install mesa-vulkan-drivers libvulkan1` (Vulkan, lavapipe) \
or `apt-get install libegl1 libgl1-mesa-dri` (OpenGL through EGL, llvmpipe).";

impl GpuContext {
    fn instance(backends: wgpu::Backends) -> wgpu::Instance {
        Self::instance_for(backends, None)
    }

    /// An instance on `backends`, connected to a window system's display when given (OpenGL
    /// needs it to present; Vulkan ignores it).
    fn instance_for(backends: wgpu::Backends, display: Option<DisplayHandle>) -> wgpu::Instance {
        let mut desc = match display {
            Some(d) => wgpu::InstanceDescriptor::new_with_display_handle(d),
            None => wgpu::InstanceDescriptor::new_without_display_handle(),
        };
        desc.backends = backends;
        wgpu::Instance::new(desc)
    }

    /// Every adapter found on the requested backends, in the order Stipple looks at them
    /// (backend group, then rank), each with the limits that bound Stipple's frames and dot
    /// buffers, and which one [`GpuContext::new`] would open: the same choice, made by the
    /// same code, without opening a device.
    pub fn survey(request: &AdapterRequest) -> Vec<AdapterReport> {
        let mut out = Vec::new();
        let mut chosen = false;
        for &backends in request.backend.order() {
            let instance = Self::instance(backends);
            let mut adapters = pollster::block_on(instance.enumerate_adapters(backends));
            adapters.sort_by_key(|a| rank(&a.get_info()));
            let pick = if chosen {
                None
            } else {
                choose(adapters.clone(), request).map(|a| a.get_info())
            };
            for a in &adapters {
                let info = a.get_info();
                let is_pick = pick.as_ref() == Some(&info);
                let l = a.limits();
                out.push(AdapterReport {
                    summary: AdapterSummary::of(&info),
                    chosen: is_pick && !chosen,
                    max_texture_dimension_2d: l.max_texture_dimension_2d,
                    max_buffer_size: l.max_buffer_size,
                    max_storage_buffer_binding_size: l.max_storage_buffer_binding_size,
                    max_color_attachments: l.max_color_attachments,
                    float32_blendable: a.features().contains(wgpu::Features::FLOAT32_BLENDABLE),
                    pigment_splat: match super::SplatOn::for_adapter(&info) {
                        super::SplatOn::Gpu => "gpu",
                        super::SplatOn::Cpu => "cpu",
                    },
                });
                chosen |= is_pick;
            }
        }
        out
    }

    /// Opens the best adapter that matches `request`. `Auto` looks at Vulkan first and only
    /// probes OpenGL when Vulkan offers nothing (probing EGL without a display is slow and
    /// noisy, and every GPU worth using has a Vulkan driver).
    pub fn new(request: &AdapterRequest) -> Result<Self, GpuError> {
        Self::open(request, None).map(|(ctx, _)| ctx)
    }

    /// The same context as [`GpuContext::new`], for drawing into a window as well: the
    /// instance is connected to the window system's `display`, and only adapters that can
    /// present to `window` are considered. Returns the context and the window's surface.
    pub fn new_for_window<D, W>(
        request: &AdapterRequest,
        display: D,
        window: W,
    ) -> Result<(Self, wgpu::Surface<'static>), GpuError>
    where
        D: wgpu::wgt::WgpuHasDisplayHandle + Clone,
        W: wgpu::DisplayAndWindowHandle + Clone + 'static,
    {
        let target = WindowTarget {
            display: Box::new(move || Box::new(display.clone())),
            surface: Box::new(move |instance: &wgpu::Instance| {
                instance
                    .create_surface(window.clone())
                    .map_err(|e| e.to_string())
            }),
        };
        let (ctx, surface) = Self::open(request, Some(target))?;
        Ok((ctx, surface.expect("a window target gives a surface")))
    }

    fn open(
        request: &AdapterRequest,
        window: Option<WindowTarget>,
    ) -> Result<(Self, Option<wgpu::Surface<'static>>), GpuError> {
        let order = request.backend.order();
        let mut found = Vec::new();
        let mut chosen = None;
        let mut surface_errors = Vec::new();
        for &backends in order {
            let instance = Self::instance_for(backends, window.as_ref().map(|w| (w.display)()));
            let surface = match &window {
                Some(w) => match (w.surface)(&instance) {
                    Ok(s) => Some(s),
                    Err(e) => {
                        surface_errors.push(e);
                        continue;
                    }
                },
                None => None,
            };
            let mut adapters = pollster::block_on(instance.enumerate_adapters(backends));
            if let Some(surface) = &surface {
                adapters.retain(|a| a.is_surface_supported(surface));
            }
            found.extend(
                adapters
                    .iter()
                    .map(|a| AdapterSummary::of(&a.get_info()).to_string()),
            );
            if let Some(best) = choose(adapters, request) {
                chosen = Some((instance, best, surface));
                break;
            }
        }
        let Some((instance, adapter, surface)) = chosen else {
            let tried = request.backend.describe();
            let filter = request
                .name_contains
                .as_ref()
                .map(|n| format!(" whose name contains {n:?}"))
                .unwrap_or_default();
            let seen = if found.is_empty() {
                "none".to_string()
            } else {
                found.join("; ")
            };
            let window = if window.is_some() {
                let errors = if surface_errors.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", surface_errors.join("; "))
                };
                format!(" that can draw into the window{errors}")
            } else {
                String::new()
            };
            return Err(GpuError::NoAdapter(format!(
                "no GPU adapter{filter}{window} found on {tried} (adapters seen: {seen}). {INSTALL_HINT}"
            )));
        };
        let summary = AdapterSummary::of(&adapter.get_info());
        // Ask for everything the adapter offers: big frames and big dot buffers need it, and
        // requests beyond it are checked against these limits before anything reaches the driver.
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("stipple"),
            // 32-bit float blending keeps the pigment map splat's sums exact where offered.
            required_features: adapter.features() & wgpu::Features::FLOAT32_BLENDABLE,
            required_limits: adapter.limits(),
            experimental_features: wgpu::ExperimentalFeatures::disabled(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        }))
        .map_err(|source| GpuError::Device {
            adapter: summary.to_string(),
            source,
        })?;
        log::info!("GPU adapter: {summary}");
        let device_error = std::sync::Arc::new(std::sync::Mutex::new(None::<String>));
        let sink = device_error.clone();
        device.on_uncaptured_error(std::sync::Arc::new(move |e: wgpu::Error| {
            log::error!("GPU device error: {e}");
            let mut slot = sink.lock().unwrap_or_else(|p| p.into_inner());
            slot.get_or_insert_with(|| e.to_string());
        }));
        Ok((
            Self {
                instance,
                adapter,
                device,
                queue,
                summary,
                device_error,
            },
            surface,
        ))
    }

    /// The first device error since the last call, if any (validation, out of memory).
    pub fn take_error(&self) -> Option<String> {
        self.device_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }

    pub fn limits(&self) -> wgpu::Limits {
        self.device.limits()
    }

    /// Blocks until the GPU has finished all submitted work (the viewer times a frame to its
    /// end this way).
    pub fn wait_idle(&self) {
        let _ = self.device.poll(wgpu::PollType::wait_indefinitely());
    }
}
