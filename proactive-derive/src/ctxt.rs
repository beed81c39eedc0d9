//! Collects every error of one derive so that the user sees them all at once.

use std::cell::RefCell;
use std::fmt::Display;
use std::thread;

use proc_macro2::Span;
use quote::ToTokens;

/// Where errors go while the input is parsed and checked.
///
/// Nothing returns early on a user mistake: each stage records what it finds here
/// and carries on, and [`Ctxt::check`] turns everything into one `syn::Error`.
/// Dropping a `Ctxt` without calling `check` is a bug in this crate, so it panics
/// (the entry point turns that panic into a "please report" error).
pub(crate) struct Ctxt {
    // `None` once `check` has run.
    errors: RefCell<Option<Vec<syn::Error>>>,
}

impl Ctxt {
    /// No errors yet.
    pub(crate) fn new() -> Self {
        Self { errors: RefCell::new(Some(Vec::new())) }
    }

    /// Records an error spanned on `tokens` (all of them, first to last).
    pub(crate) fn error_spanned_by(&self, tokens: impl ToTokens, message: impl Display) {
        self.syn_error(syn::Error::new_spanned(tokens.into_token_stream(), message));
    }

    /// Records an error at `span`.
    pub(crate) fn error_at(&self, span: Span, message: impl Display) {
        self.syn_error(syn::Error::new(span, message));
    }

    /// Records an error that syn produced.
    pub(crate) fn syn_error(&self, error: syn::Error) {
        self.errors.borrow_mut().as_mut().expect("`Ctxt::check` already ran").push(error);
    }

    /// How many errors have been recorded so far.
    pub(crate) fn error_count(&self) -> usize {
        self.errors.borrow().as_ref().map_or(0, Vec::len)
    }

    /// Every recorded error, combined into one; `Ok` when there is none.
    pub(crate) fn check(self) -> syn::Result<()> {
        let mut errors = self.errors.take().expect("`Ctxt::check` already ran").into_iter();
        let Some(mut combined) = errors.next() else { return Ok(()) };
        for error in errors {
            combined.combine(error);
        }
        Err(combined)
    }
}

impl Drop for Ctxt {
    fn drop(&mut self) {
        if !thread::panicking() && self.errors.borrow().is_some() {
            panic!("forgot to check for errors");
        }
    }
}
