//! Stipple: a GPU renderer for scalp micropigmentation (SMP) treatment plans.
//!
//! Data flows one way through the modules: [`scene`] (a client and a plan, from TOML) →
//! [`head`] (the mesh and its landmarks) → [`plan`] (the treated region) → [`layout`] (dots
//! on the surface) → [`pigment`] (how a dot looks through skin) and [`lighting`] →
//! [`render`] (the GPU) → [`output`] (PNG files) and [`viewer`] (a window). Only `render` and
//! `viewer` know about the GPU. Commands enter through one front door, [`study`]: a scene laid
//! out once, its states, their frame settings and their prepared GPU scenes.

pub mod bake;
pub mod batch;
pub mod bench;
pub mod camera;
pub mod head;
pub mod input;
pub mod layout;
pub mod lighting;
pub mod optics;
pub mod output;
pub mod pigment;
pub mod plan;
pub mod render;
pub mod scene;
pub mod skin;
pub mod study;
pub mod viewer;
