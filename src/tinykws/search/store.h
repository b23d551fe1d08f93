// The search results store: one SQLite file per search process (OUT/results.sqlite, or
// OUT/shard-I-of-N.sqlite for a shard). Only the process that owns a file writes it.
//
//   CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
//     -- space, base_config, base_hash (FNV-1a 64 of the base config text), data_dir,
//     -- constraints, shard ("I/N"), trials_total (length of the full trial list)
//   CREATE TABLE trials(
//     id TEXT PRIMARY KEY,      -- trial_id(params): 16 hex digits
//     idx INTEGER NOT NULL,     -- position in the deterministic trial list
//     params TEXT NOT NULL,     -- JSON {"dotted.path": value, ...}
//     status TEXT NOT NULL,     -- running | done | failed | invalid
//     val_accuracy REAL,        -- fraction, the runtime's (metrics.json: val_accuracy)
//     size_bytes INTEGER, zipped_bytes INTEGER,  -- model.tkws, and deflated (zlib 9)
//     latency_ms REAL, latency_std_ms REAL,      -- total clip-to-decision, median and std
//     preprocess_ms REAL, model_ms REAL,         -- medians of the two parts
//     train_seconds REAL, parameters INTEGER, sparsity REAL,
//     run_dir TEXT,             -- relative to the file's folder ("trials/<id>") or absolute
//     error TEXT,               -- failed / invalid: why
//     attempts INTEGER NOT NULL DEFAULT 0, updated_at TEXT);
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace tkws::search {

struct TrialRecord {
  std::string id;
  int64_t index = 0;
  std::string params;  // JSON text
  std::string status;  // "running", "done", "failed", "invalid"
  double val_accuracy = 0;
  int64_t size_bytes = 0, zipped_bytes = 0;
  double latency_ms = 0, latency_std_ms = 0, preprocess_ms = 0, model_ms = 0;
  double train_seconds = 0;
  int64_t parameters = 0;
  double sparsity = 0;
  std::string run_dir, error;
  int64_t attempts = 0;
  std::string updated_at;
  bool done() const { return status == "done"; }
};

class ResultStore {
 public:
  // Opens or creates the file and its tables (read_only: opens an existing file as it is).
  // std::runtime_error if SQLite fails.
  explicit ResultStore(const std::string& path, bool read_only = false);
  ~ResultStore();
  ResultStore(const ResultStore&) = delete;
  ResultStore& operator=(const ResultStore&) = delete;

  const std::string& path() const { return path_; }
  void set_meta(const std::string& key, const std::string& value);
  std::optional<std::string> meta(const std::string& key) const;
  // Inserts or replaces the row with r.id (one transaction; durable when it returns).
  void put(const TrialRecord& r);
  std::optional<TrialRecord> get(const std::string& id) const;
  std::vector<TrialRecord> all() const;  // ordered by idx, then id
  void begin();                          // explicit transaction for bulk writes
  void commit();

 private:
  void exec(const std::string& sql) const;
  std::string path_;
  sqlite3* db_ = nullptr;
};

}  // namespace tkws::search
