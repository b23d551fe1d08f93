#include "tinykws/search/store.h"

#include <sqlite3.h>

#include <ctime>
#include <stdexcept>

namespace tkws::search {

namespace {

const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials(
  id TEXT PRIMARY KEY,
  idx INTEGER NOT NULL,
  params TEXT NOT NULL,
  status TEXT NOT NULL,
  val_accuracy REAL,
  size_bytes INTEGER,
  zipped_bytes INTEGER,
  latency_ms REAL,
  latency_std_ms REAL,
  preprocess_ms REAL,
  model_ms REAL,
  train_seconds REAL,
  parameters INTEGER,
  sparsity REAL,
  run_dir TEXT,
  error TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  updated_at TEXT);
)";

const char* kColumns =
    "id, idx, params, status, val_accuracy, size_bytes, zipped_bytes, latency_ms, "
    "latency_std_ms, preprocess_ms, model_ms, train_seconds, parameters, sparsity, run_dir, "
    "error, attempts, updated_at";

// A prepared statement, finalised on scope exit.
class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql, const std::string& path) : db_(db), path_(path) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s_, nullptr) != SQLITE_OK) fail("prepare");
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  void bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void bind(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
  void bind(int i, double v) { sqlite3_bind_double(s_, i, v); }
  void bind_null(int i) { sqlite3_bind_null(s_, i); }
  bool step() {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail("step");
  }
  std::string text(int i) const {
    auto* p = sqlite3_column_text(s_, i);
    return p ? reinterpret_cast<const char*>(p) : "";
  }
  int64_t i64(int i) const { return sqlite3_column_int64(s_, i); }
  double f64(int i) const { return sqlite3_column_double(s_, i); }

 private:
  [[noreturn]] void fail(const char* what) {
    throw std::runtime_error(path_ + ": SQLite " + what + " failed: " + sqlite3_errmsg(db_));
  }
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
  std::string path_;
};

std::string now_utc() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

TrialRecord read_row(const Stmt& s) {
  TrialRecord r;
  r.id = s.text(0);
  r.index = s.i64(1);
  r.params = s.text(2);
  r.status = s.text(3);
  r.val_accuracy = s.f64(4);
  r.size_bytes = s.i64(5);
  r.zipped_bytes = s.i64(6);
  r.latency_ms = s.f64(7);
  r.latency_std_ms = s.f64(8);
  r.preprocess_ms = s.f64(9);
  r.model_ms = s.f64(10);
  r.train_seconds = s.f64(11);
  r.parameters = s.i64(12);
  r.sparsity = s.f64(13);
  r.run_dir = s.text(14);
  r.error = s.text(15);
  r.attempts = s.i64(16);
  r.updated_at = s.text(17);
  return r;
}

}  // namespace

ResultStore::ResultStore(const std::string& path, bool read_only) : path_(path) {
  int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error(path + ": cannot open SQLite database: " + msg);
  }
  // Several processes may read a shard file while its owner writes it (merge, monitoring).
  sqlite3_busy_timeout(db_, 10000);
  try {
    if (!read_only) {
      exec(kSchema);
    } else {
      Stmt s(db_, "SELECT count(*) FROM sqlite_master WHERE name = 'trials'", path_);
      if (!s.step() || s.i64(0) != 1) throw std::runtime_error(path + ": holds no trials table");
    }
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

ResultStore::~ResultStore() {
  sqlite3_close(db_);
}

void ResultStore::exec(const std::string& sql) const {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    throw std::runtime_error(path_ + ": SQLite: " + msg);
  }
}

void ResultStore::begin() {
  exec("BEGIN IMMEDIATE");
}
void ResultStore::commit() {
  exec("COMMIT");
}

void ResultStore::set_meta(const std::string& key, const std::string& value) {
  Stmt s(db_, "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", path_);
  s.bind(1, key);
  s.bind(2, value);
  s.step();
}

std::optional<std::string> ResultStore::meta(const std::string& key) const {
  Stmt s(db_, "SELECT value FROM meta WHERE key = ?", path_);
  s.bind(1, key);
  if (!s.step()) return std::nullopt;
  return s.text(0);
}

void ResultStore::put(const TrialRecord& r) {
  Stmt s(db_,
         std::string("INSERT OR REPLACE INTO trials(") + kColumns +
             ") VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
         path_);
  s.bind(1, r.id);
  s.bind(2, r.index);
  s.bind(3, r.params);
  s.bind(4, r.status);
  if (r.done()) {
    s.bind(5, r.val_accuracy);
    s.bind(6, r.size_bytes);
    s.bind(7, r.zipped_bytes);
    s.bind(8, r.latency_ms);
    s.bind(9, r.latency_std_ms);
    s.bind(10, r.preprocess_ms);
    s.bind(11, r.model_ms);
    s.bind(12, r.train_seconds);
    s.bind(13, r.parameters);
    s.bind(14, r.sparsity);
  } else {
    for (int i = 5; i <= 14; ++i) s.bind_null(i);
  }
  s.bind(15, r.run_dir);
  s.bind(16, r.error);
  s.bind(17, r.attempts);
  s.bind(18, r.updated_at.empty() ? now_utc() : r.updated_at);
  s.step();
}

std::optional<TrialRecord> ResultStore::get(const std::string& id) const {
  Stmt s(db_, std::string("SELECT ") + kColumns + " FROM trials WHERE id = ?", path_);
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return read_row(s);
}

std::vector<TrialRecord> ResultStore::all() const {
  Stmt s(db_, std::string("SELECT ") + kColumns + " FROM trials ORDER BY idx, id", path_);
  std::vector<TrialRecord> out;
  while (s.step()) out.push_back(read_row(s));
  return out;
}

}  // namespace tkws::search
