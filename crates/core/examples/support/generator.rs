//! The scale corpus generator, shared by `examples/gen_corpus.rs` and
//! `benches/scale.rs`; see the former for what it makes and why.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use citebot_core::corpus::{Essay, parse_essay};
use citebot_core::passage::{self, MAX_WORDS, sentences};
use serde::{Deserialize, Serialize};

/// Bumped when the generator's output changes for the same arguments.
const VERSION: u32 = 1;
/// Share of eligible words (four letters or more) replaced by a minted word.
const MINT_SHARE: f64 = 0.12;
/// Share of eligible words replaced by one of the essay's topic words.
const TOPIC_SHARE: f64 = 0.02;
/// Pitman–Yor discount (the Heaps exponent of the minted vocabulary) and concentration.
const PY_DISCOUNT: f64 = 0.72;
const PY_CONCENTRATION: f64 = 50.0;
/// Essays per folder.
const PER_FOLDER: usize = 1000;

/// What was generated; `.manifest.json` in the output folder.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// Generator version.
    pub version: u32,
    /// Random seed.
    pub seed: u64,
    /// Passages asked for.
    pub requested: usize,
    /// Passages as citebot splits the essays.
    pub passages: usize,
    /// Essay files.
    pub essays: usize,
    /// Words (runs of letters).
    pub words: u64,
    /// Distinct lowercase words.
    pub vocabulary: usize,
    /// Bytes of paragraph text (what citebot indexes).
    pub text_bytes: u64,
    /// Questions written.
    pub queries: usize,
}

/// What to generate.
pub struct Args {
    /// Passages wanted (the last essay is cut short to hit it).
    pub passages: usize,
    /// Output folder.
    pub out: PathBuf,
    /// The Federalist essays.
    pub source: PathBuf,
    /// Random seed.
    pub seed: u64,
    /// Questions to write to `.queries.jsonl`.
    pub queries: usize,
}

impl Args {
    /// `passages` passages into `out`, from the Federalist essays beside the repository.
    pub fn new(passages: usize, out: PathBuf) -> Args {
        Args {
            passages,
            out,
            source: Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora/federalist"),
            seed: 1,
            queries: 200,
        }
    }
}

/// Generates the corpus `args` asks for, unless `args.out` already holds it.
pub fn ensure(args: &Args) -> Result<Manifest> {
    let manifest_path = args.out.join(".manifest.json");
    if let Ok(text) = std::fs::read_to_string(&manifest_path) {
        let old: Manifest = serde_json::from_str(&text)?;
        if old.version == VERSION && old.seed == args.seed && old.requested == args.passages {
            return Ok(old);
        }
        std::fs::remove_dir_all(&args.out)?;
    } else if args.out.exists() && std::fs::read_dir(&args.out)?.next().is_some() {
        bail!(
            "{} exists and was not made by gen_corpus; refusing to overwrite it",
            args.out.display()
        );
    }
    let manifest = generate(args)?;
    std::fs::write(&manifest_path, serde_json::to_string_pretty(&manifest)?)?;
    Ok(manifest)
}

/// `1000`, `10k` or `1M`.
pub fn parse_count(text: &str) -> Result<usize> {
    let (digits, unit) = match text.strip_suffix(['k', 'K']) {
        Some(d) => (d, 1_000),
        None => match text.strip_suffix(['m', 'M']) {
            Some(d) => (d, 1_000_000),
            None => (text, 1),
        },
    };
    Ok(digits.parse::<usize>()? * unit)
}

/// SplitMix64: small, fast and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A Pitman–Yor process over minted word forms.
struct Minter {
    counts: Vec<u32>,
    draws: Vec<u32>,
}

impl Minter {
    fn draw(&mut self, rng: &mut Rng) -> usize {
        let n = self.draws.len() as f64;
        let k = self.counts.len() as f64;
        let fresh = (PY_CONCENTRATION + PY_DISCOUNT * k) / (n + PY_CONCENTRATION);
        let word = if self.draws.is_empty() || rng.unit() < fresh {
            self.counts.push(0);
            self.counts.len() - 1
        } else {
            // A past draw picks a word in proportion to its count c; keeping
            // it with probability (c - d) / c gives the Pitman–Yor weights.
            loop {
                let w = self.draws[rng.below(self.draws.len())] as usize;
                let c = f64::from(self.counts[w]);
                if rng.unit() < (c - PY_DISCOUNT) / c {
                    break w;
                }
            }
        };
        self.counts[word] += 1;
        self.draws.push(word as u32);
        word
    }
}

/// The word form of minted word `k`: distinct syllables for distinct `k`.
fn minted(k: usize) -> String {
    const ONSETS: [&str; 20] = [
        "b", "c", "d", "f", "g", "l", "m", "n", "p", "r", "s", "t", "v", "br", "cr", "dr", "pl",
        "st", "tr", "gr",
    ];
    const VOWELS: [&str; 8] = ["a", "e", "i", "o", "u", "ai", "ea", "ou"];
    const ENDINGS: [&str; 8] = ["", "n", "r", "s", "l", "x", "m", "nt"];
    const SYLLABLES: usize = ONSETS.len() * VOWELS.len();
    // Least significant syllable first, so that frequent (small) words do not
    // all share a first syllable; at least two syllables.
    let mut n = k / ENDINGS.len() + SYLLABLES;
    let mut word = String::new();
    let mut place = 0;
    while n > 0 {
        let s = (n % SYLLABLES * 37 + place * 11) % SYLLABLES;
        word.push_str(ONSETS[s / VOWELS.len()]);
        word.push_str(VOWELS[s % VOWELS.len()]);
        n /= SYLLABLES;
        place += 1;
    }
    word.push_str(ENDINGS[k % ENDINGS.len()]);
    word
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_uppercase().chain(chars).collect::<String>()
    })
}

/// A source sentence and its word count.
struct Sentence {
    text: String,
    words: usize,
}

/// The essays of a flat folder, in file name order; files that are not
/// usable essays are skipped.
fn read_essays(dir: &Path) -> Result<Vec<Essay>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .map(|entry| Ok(entry?.path()))
        .collect::<Result<_>>()?;
    files.retain(|f| {
        let name = f
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned());
        !name.starts_with('.') && (name.ends_with(".md") || name.ends_with(".txt"))
    });
    files.sort();
    let mut essays = Vec::new();
    for file in files {
        let name = file
            .file_name()
            .expect("a file")
            .to_string_lossy()
            .into_owned();
        let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
        essays.extend(parse_essay(&name, &bytes).ok());
    }
    if essays.is_empty() {
        bail!("{}: no usable essays", dir.display());
    }
    Ok(essays)
}

/// The Federalist essays as runs of sentences, one list per essay.
fn source_sentences(dir: &Path) -> Result<Vec<Vec<Sentence>>> {
    Ok(read_essays(dir)?
        .iter()
        .map(|essay| {
            essay
                .paragraphs
                .iter()
                .flat_map(|p| sentences(p).into_iter().map(move |r| &p[r]))
                .map(|s| Sentence {
                    text: s.to_string(),
                    words: s.split_whitespace().count(),
                })
                .filter(|s| s.words <= MAX_WORDS && s.words >= 3)
                .collect::<Vec<_>>()
        })
        .filter(|s| s.len() >= 8)
        .collect())
}

/// 64-bit FNV-1a, for counting distinct words.
fn fnv1a(bytes: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut hasher = fnv::FnvHasher::default();
    hasher.write(bytes);
    hasher.finish()
}

struct Generator {
    rng: Rng,
    minter: Minter,
    vocabulary: HashSet<u64>,
    words: u64,
    topic: Vec<String>,
}

impl Generator {
    fn mint(&mut self) -> String {
        let k = self.minter.draw(&mut self.rng);
        minted(k)
    }

    /// Copies `sentence` into `out`, replacing some words with minted ones.
    fn rewrite(&mut self, sentence: &str, out: &mut String) {
        let mut word = String::new();
        for c in sentence.chars().chain(std::iter::once(' ')) {
            if c.is_alphabetic() {
                word.push(c);
                continue;
            }
            if !word.is_empty() {
                let eligible = word.len() >= 4 && word.chars().skip(1).all(char::is_lowercase);
                let roll = self.rng.unit();
                let replaced = if eligible && roll < TOPIC_SHARE {
                    Some(self.topic[self.rng.below(self.topic.len())].clone())
                } else if eligible && roll < TOPIC_SHARE + MINT_SHARE {
                    Some(self.mint())
                } else {
                    None
                };
                let form = match replaced {
                    Some(w) if word.starts_with(char::is_uppercase) => capitalize(&w),
                    Some(w) => w,
                    None => std::mem::take(&mut word),
                };
                self.words += 1;
                self.vocabulary
                    .insert(fnv1a(form.to_lowercase().as_bytes()));
                out.push_str(&form);
                word.clear();
            }
            out.push(c);
        }
        out.pop();
    }
}

fn generate(args: &Args) -> Result<Manifest> {
    let source = source_sentences(&args.source)?;
    if source.is_empty() {
        bail!("{}: no usable sentences", args.source.display());
    }
    let mut g = Generator {
        rng: Rng(args.seed),
        minter: Minter {
            counts: Vec::new(),
            draws: Vec::new(),
        },
        vocabulary: HashSet::new(),
        words: 0,
        topic: Vec::new(),
    };
    let authors: Vec<String> = (0..(args.passages / 200).max(5))
        .map(|_| format!("{} {}", capitalize(&g.mint()), capitalize(&g.mint())))
        .collect();
    let publications: Vec<String> = (0..12)
        .map(|_| format!("The {} Review", capitalize(&g.mint())))
        .collect();
    std::fs::create_dir_all(&args.out)?;
    let (mut passages, mut essays, mut text_bytes) = (0, 0, 0u64);
    let mut samples: Vec<String> = Vec::new();
    while passages < args.passages {
        g.topic = (0..3).map(|_| g.mint()).collect();
        let sentences = &source[g.rng.below(source.len())];
        let wanted = (3 + g.rng.below(15)).min(args.passages - passages);
        let mut body = String::new();
        for _ in 0..wanted {
            let length = [1, 2, 2, 3, 3, 3, 4, 5][g.rng.below(8)];
            let mut at = g.rng.below(sentences.len());
            let (mut words, mut n) = (0, 0);
            let mut paragraph = String::new();
            while n < length && words + sentences[at].words <= MAX_WORDS {
                if n > 0 {
                    paragraph.push(' ');
                }
                g.rewrite(&sentences[at].text, &mut paragraph);
                words += sentences[at].words;
                n += 1;
                at = (at + 1) % sentences.len();
            }
            if g.rng.below(50) == 0 {
                samples.push(paragraph.clone());
            }
            body.push_str(&paragraph);
            body.push_str("\n\n");
        }
        let title = format!(
            "On {} and {}: Essay No. {}",
            capitalize(&g.topic[0]),
            capitalize(&g.topic[1]),
            essays + 1
        );
        let mut file = String::new();
        writeln!(file, "+++")?;
        writeln!(file, "title = {title:?}")?;
        writeln!(file, "author = {:?}", authors[g.rng.below(authors.len())])?;
        writeln!(
            file,
            "publication = {:?}",
            publications[g.rng.below(publications.len())]
        )?;
        writeln!(
            file,
            "date = \"{}-{:02}-{:02}\"",
            1990 + essays % 35,
            1 + essays % 12,
            1 + essays % 28
        )?;
        writeln!(file, "+++\n")?;
        file.push_str(&body);

        let name = format!("{:04}/essay-{:07}.md", essays / PER_FOLDER, essays);
        let essay = parse_essay(&name, file.as_bytes())
            .map_err(|(line, message)| anyhow::anyhow!("{name}:{line:?}: {message}"))?;
        passages += passage::count(&essay);
        text_bytes += essay.paragraphs.text().len() as u64;
        let path = args.out.join(&name);
        if essays % PER_FOLDER == 0 {
            std::fs::create_dir_all(path.parent().expect("in a folder"))?;
        }
        std::fs::write(&path, file)?;
        essays += 1;
    }
    let queries = write_queries(args, &mut g, &samples)?;
    Ok(Manifest {
        version: VERSION,
        seed: args.seed,
        requested: args.passages,
        passages,
        essays,
        words: g.words,
        vocabulary: g.vocabulary.len(),
        text_bytes,
        queries,
    })
}

/// Natural questions from sampled paragraphs: some ask about two or three of
/// a paragraph's words, some quote a few of its words; all deterministic.
fn write_queries(args: &Args, g: &mut Generator, samples: &[String]) -> Result<usize> {
    const TEMPLATES: [&str; 6] = [
        "What is said about {a} and {b}?",
        "How does {a} relate to {b}?",
        "Why would {a} matter for {b} and {c}?",
        "Where does the author discuss {a} with {b}?",
        "What did they write on {a}, {b} and {c}?",
        "Is {a} a danger to {b}?",
    ];
    let mut out = String::new();
    let mut n = 0;
    while n < args.queries && !samples.is_empty() {
        let sample = &samples[g.rng.below(samples.len())];
        let mut words: Vec<String> = sample
            .split(|c: char| !c.is_alphabetic())
            .filter(|w| w.len() >= 5)
            .map(str::to_lowercase)
            .collect();
        words.sort_unstable();
        words.dedup();
        if words.len() < 6 {
            continue;
        }
        let q = if g.rng.below(4) == 0 {
            let all: Vec<&str> = sample.split_whitespace().collect();
            let len = 5 + g.rng.below(4);
            let start = g.rng.below(all.len().saturating_sub(len).max(1));
            all[start..(start + len).min(all.len())].join(" ")
        } else {
            let template = TEMPLATES[g.rng.below(TEMPLATES.len())];
            let mut picked: Vec<String> = Vec::new();
            while picked.len() < 3 {
                let word = &words[g.rng.below(words.len())];
                if !picked.contains(word) {
                    picked.push(word.clone());
                }
            }
            template
                .replace("{a}", &picked[0])
                .replace("{b}", &picked[1])
                .replace("{c}", &picked[2])
        };
        out.push_str(&serde_json::to_string(&serde_json::json!({ "q": q }))?);
        out.push('\n');
        n += 1;
    }
    std::fs::write(args.out.join(".queries.jsonl"), out)?;
    Ok(n)
}
