//! Scope: which essays a question is asked within, and which count as the
//! context of a follow-up. Built by [`crate::filter`]; read by
//! [`crate::search`], which ranks only the paragraphs of essays in scope
//! and computes BM25's statistics over them alone.

/// The essays (by their index in the store) a search may return, and a
/// bonus per essay that a follow-up's context adds to their paragraphs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Within {
    /// Per essay: in scope. `None` means every essay.
    essays: Option<Vec<bool>>,
    /// Per essay: a bonus added to its paragraphs' fused scores. Empty
    /// means none.
    bonus: Vec<f32>,
}

impl Within {
    /// Every essay, no bonus: an ordinary search.
    pub fn everything() -> Within {
        Within::default()
    }

    /// Only the essays for which `keep` is true, of `count`.
    pub fn only(count: usize, keep: impl Fn(usize) -> bool) -> Within {
        Within {
            essays: Some((0..count).map(keep).collect()),
            bonus: Vec::new(),
        }
    }

    /// The same scope, adding `bonus[e]` to essay `e`'s paragraphs.
    pub fn with_bonus(mut self, bonus: Vec<f32>) -> Within {
        self.bonus = bonus;
        self
    }

    /// True when the scope is every essay.
    pub fn is_everything(&self) -> bool {
        self.essays.is_none()
    }

    /// True when essay `e` is in scope.
    pub fn contains(&self, e: usize) -> bool {
        self.essays
            .as_ref()
            .is_none_or(|keep| keep.get(e).copied().unwrap_or(false))
    }

    /// The bonus of essay `e`'s paragraphs.
    pub fn bonus(&self, e: usize) -> f32 {
        self.bonus.get(e).copied().unwrap_or(0.0)
    }

    /// True when some essay has a bonus.
    pub fn has_bonus(&self) -> bool {
        self.bonus.iter().any(|&b| b != 0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_holds_every_essay_and_only_holds_the_kept() {
        let all = Within::everything();
        assert!(all.is_everything() && all.contains(7));
        let some = Within::only(4, |e| e % 2 == 1);
        assert!(!some.is_everything());
        assert_eq!(
            (0..5).map(|e| some.contains(e)).collect::<Vec<_>>(),
            [false, true, false, true, false]
        );
        assert!(!some.has_bonus() && some.bonus(1) == 0.0);
        let boosted = some.with_bonus(vec![0.0, 0.1]);
        assert!(boosted.has_bonus());
        assert_eq!((boosted.bonus(1), boosted.bonus(3)), (0.1, 0.0));
    }
}
