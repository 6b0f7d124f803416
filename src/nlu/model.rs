//! The intent classifier: multinomial logistic regression over sparse binary features,
//! trained at start-up from the samples in `intents/` (and the out-of-domain examples).
//!
//! Small and fixed on purpose: a few thousand features, a dozen or so classes, trained by
//! stochastic gradient descent in a fixed order from a fixed seed, so the same samples
//! always give the same model (and the same answers). Nothing is downloaded or stored;
//! training takes a few milliseconds in a release build.

use std::collections::HashMap;

/// Passes over the training set.
const EPOCHS: usize = 15;
/// The first pass's step; later passes take smaller ones.
const RATE: f32 = 0.5;
/// How strongly weights are pulled back towards zero (keeps confidences honest: without
/// it, separable samples drive every weight, and every confidence, to the extreme).
const L2: f32 = 0.002;

/// One training example: its features, its class, and how much it counts.
#[derive(Debug, Clone)]
pub struct Example {
    pub features: Vec<String>,
    pub class: usize,
    pub weight: f32,
}

/// A trained classifier.
#[derive(Debug, Clone)]
pub struct Classifier {
    ids: HashMap<String, u32>,
    classes: usize,
    /// `weights[feature * classes + class]`.
    weights: Vec<f32>,
    bias: Vec<f32>,
}

impl Classifier {
    /// Trains on `examples`, whose classes are `0..classes`.
    #[must_use]
    pub fn train(examples: &[Example], classes: usize) -> Self {
        let classes = classes.max(1);
        let mut ids: HashMap<String, u32> = HashMap::new();
        let encoded: Vec<(Vec<u32>, usize, f32)> = examples
            .iter()
            .map(|e| {
                let mut f: Vec<u32> = e
                    .features
                    .iter()
                    .map(|s| {
                        let next = ids.len() as u32;
                        *ids.entry(s.clone()).or_insert(next)
                    })
                    .collect();
                f.sort_unstable();
                f.dedup();
                (f, e.class.min(classes - 1), e.weight)
            })
            .collect();
        let mut weights = vec![0f32; ids.len() * classes];
        let mut bias = vec![0f32; classes];
        let mut order: Vec<usize> = (0..encoded.len()).collect();
        let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
        let mut p = vec![0f32; classes];
        for epoch in 0..EPOCHS {
            shuffle(&mut order, &mut seed);
            let rate = RATE / (1.0 + 0.2 * epoch as f32);
            for &i in &order {
                let (features, class, weight) = &encoded[i];
                scores(&weights, &bias, classes, features, &mut p);
                softmax(&mut p);
                for (c, pc) in p.iter_mut().enumerate() {
                    let target = if c == *class { 1.0 } else { 0.0 };
                    // Now the step for class `c`.
                    *pc = rate * weight * (*pc - target);
                    bias[c] -= *pc;
                }
                // A feature's weights for every class lie together: one pass over each.
                let decay = rate * L2;
                for &f in features {
                    let row = &mut weights[f as usize * classes..(f as usize + 1) * classes];
                    for (w, step) in row.iter_mut().zip(&p) {
                        *w -= step + decay * *w;
                    }
                }
            }
        }
        Self {
            ids,
            classes,
            weights,
            bias,
        }
    }

    /// The probability of each class for these features (features never seen in training
    /// count for nothing).
    #[must_use]
    pub fn probabilities(&self, features: &[String]) -> Vec<f32> {
        let mut ids: Vec<u32> = features
            .iter()
            .filter_map(|f| self.ids.get(f).copied())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut p = vec![0f32; self.classes];
        scores(&self.weights, &self.bias, self.classes, &ids, &mut p);
        softmax(&mut p);
        p
    }

    /// Whether training saw this feature.
    #[must_use]
    pub fn knows(&self, feature: &str) -> bool {
        self.ids.contains_key(feature)
    }
}

fn scores(weights: &[f32], bias: &[f32], classes: usize, features: &[u32], out: &mut [f32]) {
    out.copy_from_slice(bias);
    for &f in features {
        let row = &weights[f as usize * classes..(f as usize + 1) * classes];
        for (o, w) in out.iter_mut().zip(row) {
            *o += w;
        }
    }
}

fn softmax(v: &mut [f32]) {
    let max = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for x in v.iter_mut() {
        *x = (*x - max).exp();
        sum += *x;
    }
    for x in v.iter_mut() {
        *x /= sum;
    }
}

/// Fisher–Yates with a small fixed-seed generator (xorshift64*): the same order every run.
fn shuffle(order: &mut [usize], seed: &mut u64) {
    for i in (1..order.len()).rev() {
        *seed ^= *seed >> 12;
        *seed ^= *seed << 25;
        *seed ^= *seed >> 27;
        let r = seed.wrapping_mul(0x2545_F491_4F6C_DD1D);
        let j = (r % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(words: &[&str], class: usize) -> Example {
        Example {
            features: words.iter().map(|w| (*w).to_owned()).collect(),
            class,
            weight: 1.0,
        }
    }

    #[test]
    fn it_learns_which_features_mean_which_class_and_is_unsure_of_the_unseen() {
        let examples = [
            example(&["health", "doing"], 0),
            example(&["health", "ok"], 0),
            example(&["alarm", "fire"], 1),
            example(&["alarm", "which"], 1),
        ];
        let model = Classifier::train(&examples, 2);
        let p = model.probabilities(&["health".into()]);
        assert!(p[0] > 0.8, "{p:?}");
        let p = model.probabilities(&["alarm".into(), "fire".into()]);
        assert!(p[1] > 0.8, "{p:?}");
        // Nothing it knows: no better than the prior.
        let p = model.probabilities(&["banana".into()]);
        assert!((p[0] - 0.5).abs() < 0.1, "{p:?}");
        assert!(!model.knows("banana") && model.knows("fire"));
    }

    #[test]
    fn the_same_examples_give_the_same_model() {
        let examples = [
            example(&["a", "b"], 0),
            example(&["c"], 1),
            example(&["b", "c"], 1),
        ];
        let one = Classifier::train(&examples, 2);
        let two = Classifier::train(&examples, 2);
        assert_eq!(one.weights, two.weights);
    }
}
