// A real single-node Slurm cluster (Debian's slurm-wlm): the test writes a slurm.conf into a
// temporary folder (auth/none, no cgroups, no accounting, ports of its own), starts slurmctld
// and slurmd as root, runs the documented recipe (scripts/slurm/submit.sh: a 2-task job array
// of search shards, then `search merge` after it) and checks the merged results against a
// single-process search. The daemons are stopped by their process ids. Skipped with a message
// when Slurm is not installed, the test is not root, or the node never becomes idle.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <filesystem>
#include <map>
#include <sstream>

#include "../fault/fault_util.h"
#include "../search/search_test_util.h"
#include "tinykws/search/store.h"

namespace fs = std::filesystem;
using namespace tkws::testing;
using namespace tkws::search;
using namespace std::chrono_literals;

namespace {

// A TCP port nothing listens on now (the kernel's pick for port 0).
int free_port() {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(s);
  return port;
}

// Runs a shell command with SLURM_CONF set; returns its output (and the exit code in *code).
std::string sh(const std::string& cmd, const std::string& conf, int* code = nullptr) {
  CliResult r = run_shell("export SLURM_CONF='" + conf + "'; " + cmd);
  if (code) *code = r.code;
  return r.out;
}

class SlurmCluster : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* b : {"/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/bin/sbatch"})
      if (!fs::exists(b)) GTEST_SKIP() << b << " not found: apt-get install slurm-wlm";
    if (::geteuid() != 0) GTEST_SKIP() << "starting slurmctld/slurmd needs root";
    root_ = temp_dir("slurm");
    fs::create_directories(root_ + "/state");
    fs::create_directories(root_ + "/spool");
    conf_ = root_ + "/slurm.conf";
    std::ofstream(conf_) << "ClusterName=tinykws\n"
                         << "SlurmctldHost=localhost\n"
                         << "SlurmctldPort=" << free_port() << "\n"
                         << "SlurmdPort=" << free_port() << "\n"
                         << "AuthType=auth/none\nCredType=cred/none\n"
                         << "ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\n"
                         << "JobAcctGatherType=jobacct_gather/none\n"
                         << "AccountingStorageType=accounting_storage/none\n"
                         << "SelectType=select/cons_tres\nSelectTypeParameters=CR_CPU\n"
                         << "SlurmUser=root\nSlurmdUser=root\nMpiDefault=none\n"
                         << "ReturnToService=2\nMinJobAge=600\n"
                         << "StateSaveLocation=" << root_ << "/state\n"
                         << "SlurmdSpoolDir=" << root_ << "/spool\n"
                         << "SlurmctldPidFile=" << root_ << "/slurmctld.pid\n"
                         << "SlurmdPidFile=" << root_ << "/slurmd.pid\n"
                         << "SlurmctldLogFile=" << root_ << "/slurmctld.log\n"
                         << "SlurmdLogFile=" << root_ << "/slurmd.log\n"
                         << "NodeName=node0 NodeAddr=127.0.0.1 CPUs="
                         << std::thread::hardware_concurrency() << " State=UNKNOWN\n"
                         << "PartitionName=test Nodes=node0 Default=YES MaxTime=INFINITE "
                            "State=UP\n";
    const std::vector<std::pair<std::string, std::string>> env = {{"SLURM_CONF", conf_}};
    ctld_ = spawn_child({"/usr/sbin/slurmctld", "-D", "-i"}, root_ + "/slurmctld.out", env);
    slurmd_ = spawn_child({"/usr/sbin/slurmd", "-D", "-N", "node0"}, root_ + "/slurmd.out", env);
    for (int i = 0; i < 150; ++i) {  // ~1 s here; up to 30 s
      if (sh("sinfo -h -o %T", conf_).find("idle") != std::string::npos) return;
      std::this_thread::sleep_for(200ms);
    }
    std::string why = sh("sinfo", conf_) + file_bytes(root_ + "/slurmctld.out") +
                      file_bytes(root_ + "/slurmd.out");
    stop_daemons();
    GTEST_SKIP() << "Slurm did not start (node not idle after 30 s):\n" << why;
  }
  void TearDown() override {
    stop_daemons();
    if (!root_.empty() && !HasFailure()) fs::remove_all(root_);
  }
  // SIGTERM by process id, then SIGKILL after 10 s.
  void stop_daemons() {
    for (Child* c : {&slurmd_, &ctld_}) {
      if (c->pid <= 0 || c->ended) continue;
      ::kill(c->pid, SIGTERM);
      if (!wait_child(*c, 10s)) kill_group(*c);
    }
  }
  // Waits until none of the jobs is pending, running or completing; false on timeout.
  bool wait_jobs(const std::string& ids, std::chrono::seconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      int code = 0;
      std::string q = sh("squeue -h -t PD,R,CG -j " + ids, conf_, &code);
      if (code == 0 && q.find_first_not_of(" \n") == std::string::npos) return true;
      std::this_thread::sleep_for(500ms);
    }
    return false;
  }
  std::string root_, conf_;
  Child ctld_, slurmd_;
};

TEST_F(SlurmCluster, JobArrayShardsPlusMergeEqualASingleProcessSearch) {
  const std::string data = make_synth_dataset(root_ + "/data", 6, 2, 2);
  write_text(root_ + "/base.toml", kTinyBaseConfig);
  const std::string space = write_text(root_ + "/space.toml", R"(
base = "base.toml"
mode = "grid"
constraints = "accuracy>0.4,size<50kB"
[axes]
"frontend.num_mfcc" = [6, 8]
"model.width_multiplier" = [0.5, 1.0]
)");
  const std::string single = root_ + "/single", cluster = root_ + "/cluster";
  CliResult r = run_tinykws("search --space " + space + " --data " + data + " --out " + single +
                            " --latency-runs 5 --latency-discard 1 --quiet");
  ASSERT_EQ(r.code, 0) << r.out;

  // The documented recipe, as a user runs it from the source folder.
  int code = 0;
  std::string ids = sh("cd " TINYKWS_SOURCE_DIR " && SHARDS=2 SPACE='" + space + "' OUT='" +
                           cluster + "' TINYKWS_DATA='" + data + "' TINYKWS='" + tinykws_binary() +
                           "' scripts/slurm/submit.sh --output='" + root_ + "/slurm-%A_%a.out'",
                       conf_, &code);
  ASSERT_EQ(code, 0) << ids;
  std::istringstream in(ids);
  std::string array, merge;
  in >> array >> merge;
  ASSERT_FALSE(merge.empty()) << ids;
  ASSERT_TRUE(wait_jobs(array + "," + merge, 600s))
      << sh("squeue", conf_) << file_bytes(root_ + "/slurmctld.log");

  // Every job completed with exit code 0 (no accounting here: scontrol, not sacct).
  std::string jobs =
      sh("scontrol show job " + array, conf_) + sh("scontrol show job " + merge, conf_);
  size_t completed = 0;
  for (size_t p = 0; (p = jobs.find("JobState=COMPLETED", p)) != std::string::npos; ++p)
    ++completed;
  EXPECT_EQ(completed, 3u) << jobs;
  EXPECT_EQ(jobs.find("JobState=FAILED"), std::string::npos) << jobs;

  ASSERT_TRUE(fs::exists(cluster + "/shard-0-of-2.sqlite"));
  ASSERT_TRUE(fs::exists(cluster + "/shard-1-of-2.sqlite"));
  ASSERT_TRUE(fs::exists(cluster + "/results.sqlite"));
  EXPECT_TRUE(fs::exists(cluster + "/best.tkws"));
  EXPECT_TRUE(fs::exists(cluster + "/pareto.json"));
  auto got = rows_of(cluster + "/results.sqlite"), want = rows_of(single + "/results.sqlite");
  ASSERT_EQ(got.size(), 4u);
  ASSERT_EQ(want.size(), 4u);
  for (auto& [id, w] : want) {
    ASSERT_EQ(got.count(id), 1u) << id;
    const TrialRecord& g = got.at(id);
    EXPECT_EQ(g.status, "done") << id;
    EXPECT_EQ(g.params, w.params);
    EXPECT_EQ(g.val_accuracy, w.val_accuracy) << w.params;
    EXPECT_EQ(g.size_bytes, w.size_bytes) << w.params;
    EXPECT_TRUE(file_bytes(cluster + "/trials/" + id + "/model.tkws") ==
                file_bytes(single + "/trials/" + id + "/model.tkws"))
        << w.params;
  }
}

}  // namespace
