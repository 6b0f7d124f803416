//! How far a word heard is from a word known: slips (a letter added, dropped, changed or
//! swapped), with a cheap length and letter test first.

/// A word as written, with what is compared first when looking for a slip.
#[derive(Debug)]
pub(super) struct Spelling {
    pub(super) word: String,
    pub(super) len: usize,
    letters: u64,
}

impl Spelling {
    pub(super) fn new(word: String) -> Self {
        Self {
            len: word.chars().count(),
            letters: letters(&word),
            word,
        }
    }

    /// How many slips `other` is from this word, if no more than `most`. Words further
    /// apart in length, or in the letters they use, cannot be that close (each slip adds
    /// or drops at most one letter of the alphabet, two bits of the difference, and a swap
    /// neither), so only the rest are spelt out.
    pub(super) fn slips(&self, other: &Spelling, most: usize) -> Option<usize> {
        if self.len.abs_diff(other.len) > most
            || (self.letters ^ other.letters).count_ones() as usize > 2 * most
        {
            return None;
        }
        let d = strsim::osa_distance(&self.word, &other.word);
        (d <= most).then_some(d)
    }
}

/// Which letters and digits a word uses, one bit each (anything else shares bit 63).
fn letters(word: &str) -> u64 {
    word.chars().fold(0, |set, c| {
        let bit = match c {
            'a'..='z' => c as u32 - 'a' as u32,
            '0'..='9' => 26 + (c as u32 - '0' as u32),
            _ => 63,
        };
        set | 1 << bit
    })
}
