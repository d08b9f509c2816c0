/* Search queries, tidied before Material's search worker parses them.
 *
 * Material turns every query word into a prefix clause (`non` -> `non*`) and hands the result to lunr,
 * whose query syntax reads `-` before a term as "must not contain". A word ending in a hyphen (`non-`,
 * typed on the way to `non-local`) became `non-*`: lunr read the second part as a clause `*` matching
 * every word of the index, so the worker stalled for seconds and then listed every page. Here a hyphen
 * inside or after a word separates words (as the index's tokenizer does), and a lone `-` or `+` is
 * dropped; a leading `-` or `+` keeps its meaning.
 *
 * Each plain word is also sent once more as an exact, boosted clause (`se^10 se` -> `se^10 se*`), so a
 * page holding the word itself (the module id `se`) ranks above pages that only hold a longer word
 * starting with it (`segformer`, `selective`). Words with Chinese characters are left to Material's own
 * segmentation.
 *
 * Chinese: Material's worker cuts a run of Han characters into the index's words, but it never tries a
 * word that ends the run (its loop stops one character short), so `非局部` was searched as `非*` and
 * `通道注意力` as `通道*`. Here the run is cut into the index's words (longest first) from the words
 * the index itself holds (read from the index the page hands to the worker), and each word is sent with
 * an ideographic zero `〇` after it, which no word of the index holds: the worker's cut then ends on the
 * whole word and drops the `〇`.
 *
 * Material 9 offers no hook for the query transform, and the worker is built at start-up; the only
 * place left is the message that carries the query to the worker (type 2, QUERY, in Material's
 * `SearchMessageType`), which this wraps.
 */
(function () {
  "use strict";

  var QUERY = 2;
  var EXACT_BOOST = 10;
  var SETUP = 0;
  var HAN = /[\u3400-\u9fff\uf900-\ufaff]/;
  var HAN_RUN = /[\u3400-\u9fff\uf900-\ufaff]+/g;
  var SENTINEL = "\u3007"; // 〇: Script=Han, in no word of the index
  var words = new Set(); // the Han words of the index
  var longest = 0;

  function learn(data) {
    var separator = new RegExp(data.config.separator, "g");
    words = new Set();
    data.docs.forEach(function (doc) {
      [doc.title, doc.text].concat(doc.tags || []).forEach(function (field) {
        (field || "").replace(/<[^>]*>/g, " ").split(separator).forEach(function (token) {
          (token.match(HAN_RUN) || []).forEach(function (word) {
            words.add(word);
          });
        });
      });
    });
    words.delete(SENTINEL);
    longest = 0;
    words.forEach(function (word) {
      longest = Math.max(longest, word.length);
    });
  }

  function cut(run) {
    // the index's words in the run, longest first; a stretch that is no word stays as it is
    var out = [];
    var unknown = "";
    for (var i = 0; i < run.length; ) {
      var n = Math.min(longest, run.length - i);
      while (n > 0 && !words.has(run.substr(i, n))) n--;
      if (n === 0) {
        unknown += run[i++];
        continue;
      }
      if (unknown) out.push({ word: unknown, known: false });
      unknown = "";
      out.push({ word: run.substr(i, n), known: true });
      i += n;
    }
    if (unknown) out.push({ word: unknown, known: false });
    return out;
  }
  var SYNTAX = /[*~^:]/;

  function han(part) {
    // "非局部" -> "非局部〇^10 非局部〇" (Material adds the * to the second); Latin letters around a run stay apart
    return part
      .replace(HAN_RUN, function (run) {
        return " " + cut(run)
          .map(function (w) {
            return w.known ? w.word + SENTINEL + "^" + EXACT_BOOST + " " + w.word + SENTINEL : w.word;
          })
          .join(" ") + " ";
      })
      .trim()
      .split(/\s+/)
      .map(function (piece) {
        return HAN.test(piece) || !piece ? piece : piece + "^" + EXACT_BOOST + " " + piece;
      })
      .join(" ");
  }

  function plain(text) {
    var out = [];
    text.split(/\s+/).forEach(function (word) {
      var match = /^([+-]?)(.*)$/.exec(word);
      match[2].split(/-+/).forEach(function (part) {
        if (!part) return;
        if (match[1] || SYNTAX.test(part)) out.push(match[1] + part);
        else if (HAN.test(part)) out.push(han(part));
        else out.push(part + "^" + EXACT_BOOST + " " + part);
      });
    });
    return out.join(" ");
  }

  function tidy(query) {
    // "a phrase" (odd pieces of the split) is left to Material, which makes its words required
    return query
      .split('"')
      .map(function (piece, i) {
        return i % 2 ? piece.replace(/-+/g, " ").trim() : plain(piece);
      })
      .map(function (piece, i, all) {
        return i % 2 && i < all.length - 1 ? '"' + piece + '"' : piece;
      })
      .filter(Boolean)
      .join(" ");
  }

  var post = Worker.prototype.postMessage;
  Worker.prototype.postMessage = function (message) {
    if (message && message.type === SETUP && message.data && message.data.docs) learn(message.data);
    if (message && message.type === QUERY && typeof message.data === "string") {
      var args = Array.prototype.slice.call(arguments);
      args[0] = Object.assign({}, message, { data: tidy(message.data) });
      return post.apply(this, args);
    }
    return post.apply(this, arguments);
  };

  window.cvattnSearchQuery = tidy; // for the tests
})();
