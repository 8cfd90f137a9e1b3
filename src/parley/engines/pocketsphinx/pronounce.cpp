#include "parley/engines/pocketsphinx/pronounce.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

extern char** environ;

namespace parley::pocketsphinx {
namespace {

constexpr std::array<std::string_view, 39> k_cmu_phones = {
    "AA", "AE", "AH", "AO", "AW", "AY", "B",  "CH", "D",  "DH", "EH", "ER", "EY",
    "F",  "G",  "HH", "IH", "IY", "JH", "K",  "L",  "M",  "N",  "NG", "OW", "OY",
    "P",  "R",  "S",  "SH", "T",  "TH", "UH", "UW", "V",  "W",  "Y",  "Z",  "ZH"};

// IPA (as espeak-ng writes it for en-us) → CMU phones. Matched longest first inside each
// '_'-separated phoneme, so "ɑːɹ" becomes "AA R" and "aɪ" "AY".
struct ipa_entry {
  std::string_view ipa;
  std::string_view cmu;
};
constexpr ipa_entry k_ipa[] = {
    // r-coloured vowels and diphthongs
    {"aɪɚ", "AY ER"}, {"aʊɚ", "AW ER"}, {"ɑːɹ", "AA R"}, {"ɔːɹ", "AO R"}, {"oːɹ", "AO R"}, {"ɜːɹ", "ER"},
    {"ɛɹ", "EH R"},   {"ɪɹ", "IH R"},   {"ʊɹ", "UH R"},  {"eɪ", "EY"},    {"aɪ", "AY"},    {"aʊ", "AW"},
    {"oʊ", "OW"},     {"əʊ", "OW"},     {"ɔɪ", "OY"},    {"tʃ", "CH"},    {"dʒ", "JH"},
    // syllabic consonants (combining vertical line below, U+0329)
    {"n\u0329", "AH N"}, {"l\u0329", "AH L"}, {"m\u0329", "AH M"},
    // vowels
    {"ɑː", "AA"}, {"ɔː", "AO"}, {"ɜː", "ER"}, {"iː", "IY"}, {"uː", "UW"}, {"oː", "OW"}, {"ɑ", "AA"},
    {"ɒ", "AA"},  {"a", "AA"},  {"æ", "AE"},  {"ʌ", "AH"},  {"ə", "AH"},  {"ɐ", "AH"},  {"ɔ", "AO"},
    {"ɛ", "EH"},  {"e", "EH"},  {"ɜ", "ER"},  {"ɚ", "ER"},  {"ɪ", "IH"},  {"ᵻ", "IH"},  {"i", "IY"},
    {"o", "OW"},  {"ʊ", "UH"},  {"u", "UW"},
    // consonants
    {"b", "B"}, {"d", "D"},  {"ð", "DH"}, {"f", "F"}, {"ɡ", "G"},  {"g", "G"},  {"h", "HH"}, {"k", "K"},
    {"l", "L"}, {"ɫ", "L"},  {"ɬ", "L"},  {"m", "M"}, {"n", "N"},  {"ŋ", "NG"}, {"p", "P"},  {"ɹ", "R"},
    {"r", "R"}, {"s", "S"},  {"ʃ", "SH"}, {"t", "T"}, {"θ", "TH"}, {"v", "V"},  {"w", "W"},  {"ʍ", "W"},
    {"j", "Y"}, {"z", "Z"},  {"ʒ", "ZH"}, {"ɾ", "T"}, {"ʔ", "T"},  {"x", "K"},  {"ç", "HH"},
};

void append_phones(std::string& out, std::string_view phones) {
  if (phones.empty()) return;
  if (!out.empty()) out += ' ';
  out += phones;
}

// --- letter-to-sound ------------------------------------------------------------------------

bool is_vowel_letter(char c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u'; }

struct lts_rule {
  std::string_view letters;
  std::string_view phones;
};
// Multi-letter spellings, longest first; single letters are handled in letters_to_cmu.
constexpr lts_rule k_lts[] = {
    {"eigh", "EY"}, {"tion", "SH AH N"}, {"sion", "ZH AH N"}, {"ough", "AO"}, {"augh", "AO"}, {"igh", "AY"},
    {"sch", "S K"}, {"tch", "CH"}, {"dge", "JH"}, {"ch", "CH"},  {"sh", "SH"},  {"th", "TH"},  {"ph", "F"},
    {"wh", "W"},    {"ck", "K"},  {"ng", "NG"},  {"qu", "K W"}, {"ee", "IY"},  {"ea", "IY"},  {"oo", "UW"},
    {"ai", "EY"},   {"ay", "EY"}, {"oa", "OW"},  {"ou", "AW"},  {"ow", "OW"},  {"oi", "OY"},  {"oy", "OY"},
    {"au", "AO"},   {"aw", "AO"}, {"ew", "UW"},  {"ie", "IY"},  {"ei", "EY"},  {"ey", "EY"},  {"ar", "AA R"},
    {"or", "AO R"}, {"er", "ER"}, {"ir", "ER"},  {"ur", "ER"},
};

std::string_view single_letter(const std::string& w, std::size_t i) {
  const char c = w[i];
  const char next = i + 1 < w.size() ? w[i + 1] : '\0';
  // "magic e": vowel + one consonant + final e → long vowel (the e itself is silent).
  const bool magic_e = i + 2 == w.size() - 1 && w.back() == 'e' && !is_vowel_letter(next) && next != '\0' &&
                       next != 'e' && w.size() > 3;
  switch (c) {
    case 'a': return magic_e ? "EY" : "AE";
    case 'b': return "B";
    case 'c': return (next == 'e' || next == 'i' || next == 'y') ? "S" : "K";
    case 'd': return "D";
    case 'e':
      if (i + 1 == w.size() && i > 1) return "";  // silent final e
      return magic_e ? "IY" : "EH";
    case 'f': return "F";
    case 'g': return "G";
    case 'h': return "HH";
    case 'i': return magic_e ? "AY" : "IH";
    case 'j': return "JH";
    case 'k': return "K";
    case 'l': return "L";
    case 'm': return "M";
    case 'n': return "N";
    case 'o': return magic_e ? "OW" : "AA";
    case 'p': return "P";
    case 'q': return "K";
    case 'r': return "R";
    case 's': return "S";
    case 't': return "T";
    case 'u': return magic_e ? "UW" : "AH";
    case 'v': return "V";
    case 'w': return "W";
    case 'x': return i == 0 ? "Z" : "K S";
    case 'y':
      if (i == 0) return "Y";
      return i + 1 == w.size() ? "IY" : "IH";
    case 'z': return "Z";
    default: return "";
  }
}

std::string trim(std::string s) {
  const auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

}  // namespace

std::string_view to_string(pron_source source) {
  switch (source) {
    case pron_source::dictionary: return "dictionary";
    case pron_source::espeak: return "espeak-ng";
    case pron_source::rules: return "rules";
  }
  return "?";
}

bool is_cmu_phone(std::string_view phone) {
  return std::find(k_cmu_phones.begin(), k_cmu_phones.end(), phone) != k_cmu_phones.end();
}

std::string ipa_to_cmu(std::string_view ipa) {
  std::string out;
  std::size_t i = 0;
  while (i < ipa.size()) {
    // Separators and marks that carry no phone: '_', spaces, stress (ˈ ˌ), a lone length mark.
    if (ipa[i] == '_' || ipa[i] == ' ' || ipa[i] == '\n' || ipa[i] == '\t' || ipa[i] == '-') {
      ++i;
      continue;
    }
    const ipa_entry* best = nullptr;
    for (const auto& e : k_ipa) {
      if (ipa.substr(i, e.ipa.size()) == e.ipa && (best == nullptr || e.ipa.size() > best->ipa.size())) best = &e;
    }
    if (best != nullptr) {
      append_phones(out, best->cmu);
      i += best->ipa.size();
      continue;
    }
    // Skip one UTF-8 code point we do not map (stress marks, length marks, tie bars, ...).
    const auto lead = static_cast<unsigned char>(ipa[i]);
    std::size_t len = 1;
    if (lead >= 0xF0) len = 4;
    else if (lead >= 0xE0) len = 3;
    else if (lead >= 0xC0) len = 2;
    i += len;
  }
  return out;
}

std::string letters_to_cmu(std::string_view word_in) {
  std::string w;
  for (const char c : word_in) {
    if (c >= 'A' && c <= 'Z') w += static_cast<char>(c - 'A' + 'a');
    else if (c >= 'a' && c <= 'z') w += c;
  }
  std::string out;
  std::size_t i = 0;
  while (i < w.size()) {
    // A doubled consonant sounds once ("ll", "tt").
    if (i > 0 && w[i] == w[i - 1] && !is_vowel_letter(w[i])) {
      ++i;
      continue;
    }
    const lts_rule* rule = nullptr;
    for (const auto& r : k_lts) {
      if (w.compare(i, r.letters.size(), r.letters) == 0) {
        rule = &r;
        break;  // the table is ordered longest first within each family
      }
    }
    if (rule != nullptr) {
      append_phones(out, rule->phones);
      i += rule->letters.size();
      continue;
    }
    append_phones(out, single_letter(w, i));
    ++i;
  }
  if (out.empty() && !w.empty()) out = "AH";
  return out;
}

result<std::string> espeak_ipa(const std::string& program, const std::string& word) {
  int fds[2];
  if (pipe(fds) != 0) return make_error(errc::unavailable, "espeak-ng: pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  std::vector<std::string> args = {program, "-q", "--ipa", "-v", "en-us", "--sep=_", word};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return make_error(errc::unavailable, "espeak-ng: cannot run '" + program + "': " + std::strerror(rc));
  }
  std::string output;
  char buf[512];
  for (;;) {
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n > 0) {
      output.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  close(fds[0]);
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0)
    return make_error(errc::unavailable, "espeak-ng: '" + program + "' failed");
  return trim(std::move(output));
}

pronunciation guess_pronunciation(const std::string& word, const std::string& espeak_program) {
  if (!espeak_program.empty()) {
    if (auto ipa = espeak_ipa(espeak_program, word); ipa && !ipa->empty()) {
      auto phones = ipa_to_cmu(*ipa);
      if (!phones.empty()) return {word, std::move(phones), pron_source::espeak};
    }
  }
  return {word, letters_to_cmu(word), pron_source::rules};
}

}  // namespace parley::pocketsphinx
