//! placeholder

pub mod svg;
