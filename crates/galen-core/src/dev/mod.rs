//! For developers only, behind the `dev` feature (never in a release build's API): synthetic patients for demos
//! and benchmarks (`seed`), and the benchmarks themselves (`bench`), which the `galen bench` commands print.

pub mod bench;
pub mod seed;
