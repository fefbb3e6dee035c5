//! The matmuls of multilingual-e5-small (hidden 384, intermediate 1536) on a need of 100 tokens, in f32
//! and in candle's quantized Q4_0 / Q8_0 (`QMatMul`): whether a quantized model would embed a query faster
//! on this machine (README, "Matching at scale"). `cargo run --release -p xietong-embed --example qmatmul`.

use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{Device, Module, Tensor};
use std::time::Instant;

fn main() -> candle_core::Result<()> {
    let dev = Device::Cpu;
    // e5-small: hidden 384, intermediate 1536; a need of ~100 tokens.
    for (out_f, in_f) in [(384usize, 384usize), (1536, 384), (384, 1536)] {
        let w = Tensor::randn(0f32, 0.05, (out_f, in_f), &dev)?;
        let x = Tensor::randn(0f32, 1.0, (1, 100, in_f), &dev)?;
        let wt = w.t()?;
        let f = |n: usize, g: &dyn Fn() -> candle_core::Result<Tensor>| -> candle_core::Result<f64> {
            g()?;
            let t = Instant::now();
            for _ in 0..n {
                std::hint::black_box(g()?);
            }
            Ok(t.elapsed().as_secs_f64() * 1000.0 / n as f64)
        };
        let f32ms = f(50, &|| x.broadcast_matmul(&wt))?;
        let mut line = format!("{out_f}x{in_f}: f32 {f32ms:.3} ms");
        for dt in [GgmlDType::Q4_0, GgmlDType::Q8_0] {
            let q = QMatMul::from_qtensor(QTensor::quantize(&w, dt)?)?;
            let ms = f(50, &|| q.forward(&x))?;
            line.push_str(&format!(", {dt:?} {ms:.3} ms"));
        }
        println!("{line}");
    }
    Ok(())
}
