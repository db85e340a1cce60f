//! Calling back into Rust from an AIS dispatch: the one home of the callback trampolines'
//! plumbing for every service (AMF, IMM OI, CLM).
//!
//! AIS callbacks carry no user-data pointer and run only inside the service's dispatch call
//! (`saAmfDispatch`, `saImmOiDispatch`, `saClmDispatch`), on the calling thread, one at a
//! time. So [`run`] parks a pointer to the caller's context (its handler and what the
//! trampolines need) in a thread-local for exactly the duration of the C call, and each
//! `extern "C"` trampoline reaches it through [`callback`].
//!
//! Nothing may unwind into C. A panic in a handler is caught at the trampoline; the
//! remaining callbacks of that dispatch are skipped (the handler may be half-updated, as
//! git2's `panic.rs` also reasons), and the panic is resumed once the C call has returned.

use std::any::{Any, TypeId};
use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

use super::error::{AisCode, AisCodeExt, Error};
use super::names::NameFns;

/// One service's callbacks: a marker type naming what its dispatch lends the trampolines.
pub(crate) trait Route: 'static {
    /// The dispatch call, for the log line of a callback that comes outside one.
    const DISPATCH: &'static str;
    /// What a dispatch lends its callbacks (borrowing the caller's handler for `'a`).
    type Ctx<'a>;
}

/// What a service's dispatch usually lends: the caller's handler, the service's responder
/// (to answer invocations from inside a callback) and the SaNameT helpers.
pub(crate) struct Lent<'a, H: ?Sized, R> {
    pub handler: &'a mut H,
    pub responder: R,
    pub names: NameFns,
}

/// Declares `$route`, the route of one service's callbacks, whose dispatch lends a [`Lent`]
/// of the caller's `dyn $handler` and a `$responder`.
macro_rules! route {
    ($route:ident: $dispatch:literal, dyn $handler:ident, $responder:ty) => {
        enum $route {}

        impl $crate::osaf::dispatch::Route for $route {
            const DISPATCH: &'static str = $dispatch;
            type Ctx<'a> = $crate::osaf::dispatch::Lent<'a, dyn $handler + 'a, $responder>;
        }
    };
}
pub(crate) use route;

type Parked = (TypeId, *mut ());

thread_local! {
    static PARKED: Cell<Option<Parked>> = const { Cell::new(None) };
    static PANIC: RefCell<Option<Box<dyn Any + Send>>> = const { RefCell::new(None) };
}

/// Runs `dispatch` (the C dispatch call) with `ctx` reachable by the callbacks of route `R`
/// on this thread, then resumes a panic one of them caught; else the call's answer.
pub(crate) fn run<R: Route>(
    ctx: &mut R::Ctx<'_>,
    dispatch: impl FnOnce() -> AisCode,
) -> Result<(), Error> {
    /// Puts back what was parked before (a dispatch inside a callback nests), also when
    /// this function unwinds, so no trampoline can ever see a dangling context.
    struct Restore(Option<Parked>);
    impl Drop for Restore {
        fn drop(&mut self) {
            PARKED.with(|p| p.set(self.0.take()));
        }
    }
    let parked = (TypeId::of::<R>(), (ctx as *mut R::Ctx<'_>).cast::<()>());
    let restore = Restore(PARKED.with(|p| p.replace(Some(parked))));
    let out = dispatch();
    drop(restore);
    if let Some(panic) = PANIC.with(|slot| slot.borrow_mut().take()) {
        resume_unwind(panic);
    }
    out.check(R::DISPATCH)
}

/// In an `extern "C"` trampoline: runs `f` with the context of the dispatch in progress on
/// this thread, catching a panic. Does nothing outside a dispatch of route `R` (logged)
/// or after an earlier callback of the same dispatch panicked.
pub(crate) fn callback<R: Route>(f: impl FnOnce(&mut R::Ctx<'_>)) {
    let Some((_, ptr)) = PARKED
        .with(Cell::get)
        .filter(|(route, _)| *route == TypeId::of::<R>())
    else {
        log::error!("callback outside {}: ignored", R::DISPATCH);
        return;
    };
    if PANIC.with(|slot| slot.borrow().is_some()) {
        return;
    }
    // SAFETY: `ptr` was parked by `run::<R>` from the `&mut R::Ctx` it borrows for the whole
    // C dispatch call on this very thread (the route's TypeId matched), and `Restore` takes
    // it away before `run` returns or unwinds. Callbacks run one at a time inside that call,
    // so this is the only reference to the context while `f` runs.
    let ctx = unsafe { &mut *ptr.cast::<R::Ctx<'_>>() };
    if let Err(panic) = catch_unwind(AssertUnwindSafe(|| f(ctx))) {
        PANIC.with(|slot| *slot.borrow_mut() = Some(panic));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    enum Counting {}
    impl Route for Counting {
        const DISPATCH: &'static str = "testDispatch";
        type Ctx<'a> = &'a mut Vec<u32>;
    }

    enum Other {}
    impl Route for Other {
        const DISPATCH: &'static str = "otherDispatch";
        type Ctx<'a> = ();
    }

    /// Stands in for a C library's dispatch: calls the trampoline once per value, then
    /// answers BAD_HANDLE if asked to (0 in `values`).
    fn c_dispatch(values: &[u32]) -> AisCode {
        for &v in values.iter().filter(|&&v| v != 0) {
            callback::<Counting>(|seen: &mut &mut Vec<u32>| {
                assert_ne!(v, 13, "handler bug");
                seen.push(v);
            });
        }
        if values.contains(&0) {
            AisCode::BAD_HANDLE
        } else {
            AisCode::OK
        }
    }

    #[test]
    fn callbacks_reach_the_context_only_inside_the_dispatch() {
        let mut seen = Vec::new();
        run::<Counting>(&mut &mut seen, || c_dispatch(&[1, 2, 3])).unwrap();
        assert_eq!(seen, [1, 2, 3]);
        // Outside a dispatch, or inside another route's, the callback is ignored.
        c_dispatch(&[4]);
        run::<Other>(&mut (), || c_dispatch(&[5])).unwrap();
        assert_eq!(seen, [1, 2, 3]);
        // The dispatch call's own answer names the route's call.
        let e = run::<Counting>(&mut &mut seen, || c_dispatch(&[6, 0])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "testDispatch failed: SA_AIS_ERR_BAD_HANDLE (9)"
        );
        assert_eq!(seen, [1, 2, 3, 6]);
    }

    #[test]
    fn a_panic_skips_the_rest_of_the_dispatch_and_is_resumed_after_it() {
        let mut seen = Vec::new();
        let mut returned = false;
        let caught = catch_unwind(AssertUnwindSafe(|| {
            run::<Counting>(&mut &mut seen, || {
                let rc = c_dispatch(&[1, 13, 2]);
                returned = true;
                rc
            })
        }));
        let msg = caught.unwrap_err();
        assert!(msg
            .downcast_ref::<String>()
            .unwrap()
            .contains("handler bug"));
        assert!(returned, "the C call itself ran to its end");
        assert_eq!(seen, [1], "callbacks after the panic are skipped");
        // The next dispatch starts clean.
        run::<Counting>(&mut &mut seen, || c_dispatch(&[7])).unwrap();
        assert_eq!(seen, [1, 7]);
    }

    #[test]
    fn a_nested_dispatch_restores_the_outer_context() {
        let mut outer = Vec::new();
        run::<Counting>(&mut &mut outer, || {
            let mut inner = Vec::new();
            run::<Counting>(&mut &mut inner, || c_dispatch(&[9])).unwrap();
            assert_eq!(inner, [9]);
            c_dispatch(&[1])
        })
        .unwrap();
        assert_eq!(outer, [1]);
    }
}
