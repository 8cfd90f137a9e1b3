// routing/post_owned — how a request across a chain of engines hears back from them.
//
// A chain request (an LLM request across providers, an utterance across recognizers, a sentence
// across voices) owns the chain, and the chain owns the engines. If an engine's callbacks held
// the request strongly, the last reference could be dropped on the engine's own thread when the
// engine lets go of its callbacks — and an engine released there joins its own thread
// (std::terminate). So the callbacks hold the request weakly, and each one moves the strong
// reference it takes into a handler on the request's strand: the request, and with it the
// engines, is only ever released on the strand or by its caller.
#pragma once

#include <boost/asio/post.hpp>
#include <memory>
#include <utility>

namespace parley::routing::detail {

/// Runs `f(owner)` on `on` (the owner's strand), `owner` alive until it has run. Callers copy
/// what they pass (a token's text, a chunk of audio) into `f` before the engine's call returns.
/// `owner` is taken by reference, so `post_owned(std::move(p), p->strand, ...)` is safe: nothing
/// is moved until the executor has been copied.
template <class T, class Executor, class F>
void post_owned(std::shared_ptr<T>&& owner, const Executor& on, F f) {
  Executor executor = on;
  boost::asio::post(executor, [owner = std::move(owner), f = std::move(f)]() mutable { f(owner); });
}

}  // namespace parley::routing::detail
