// SPDX-License-Identifier: GPL-2.0

//! The module's plain `no_std` parts, compiled for the host: the very files
//! the module compiles, for the host tests (and, through the same paths,
//! the fuzz targets in `tests/fuzz`).

#[path = "../../src/confinement.rs"]
pub mod confinement;
#[path = "../../src/frame.rs"]
pub mod frame;
#[path = "../../src/relay.rs"]
pub mod relay;
