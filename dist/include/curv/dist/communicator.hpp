// curv::dist: data-parallel training over MPI. Each process (rank) holds a
// contiguous shard of the training set; the Accumulator's double-precision
// totals are summed across ranks once per pass (datasets::AccumulatorOptions
// ::reduce), in an order fixed by the rank count; the optimizers run in
// lockstep on every rank with the same flat vectors (docs/distributed.md).
//
// MPI is optional: a curv built without it (-DCURV_WITH_MPI=OFF, or no MPI
// found), or a program not started by mpirun, runs as one process, rank 0
// of 1, where every collective below is a no-op and every result is the
// single-process one bit for bit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace curv::dist {

// Whether this build of curv has MPI (CURV_WITH_MPI).
bool built_with_mpi();

// Whether the environment says this process was started by an MPI launcher
// (mpirun/mpiexec of Open MPI, or a PMI/PMIx launcher such as srun).
bool launched_by_mpi();

namespace detail {
struct Comm;
}  // namespace detail

// A group of processes: MPI_COMM_WORLD in a Session, or the single process.
// Cheap to copy (copies share the MPI communicator). Every member function
// but rank() and size() is a collective: every rank calls it, in the same
// order, with the same sizes. MPI errors throw std::runtime_error naming the
// call and MPI's message.
class Communicator {
 public:
  // The single process: rank 0 of 1.
  Communicator() = default;

  int rank() const;
  int size() const;
  bool is_root() const { return rank() == 0; }

  // x ← Σ over ranks of x, the same bits on every rank. The order is fixed
  // by size(): a binomial tree over contiguous rank ranges, each addition
  // (lower ranks' partial sum) + (higher ranks' partial sum), reduced to
  // rank 0 and broadcast — bit-identical run to run for a given rank count,
  // memory one extra buffer of x's size, log₂(size) messages deep.
  // (MPI_Allreduce fixes no order.) size() = 1: x unchanged.
  void sum(std::span<double> x) const;
  // bytes ← rank root's bytes on every rank (same size everywhere).
  void broadcast(std::span<std::byte> bytes, int root = 0) const;
  // Every rank's value, in rank order, on every rank.
  std::vector<std::uint64_t> all_gather(std::uint64_t value) const;
  // Waits until every rank has called it.
  void barrier() const;
  // Ends every rank's process with `code` (MPI_Abort); the single process:
  // std::exit(code). For an error on one rank that the others, waiting in
  // a collective, would never learn of.
  [[noreturn]] void abort(int code) const;

  // What this rank has sent and how long it spent in sum(), broadcast() and
  // all_gather() since the Session began (across copies of this
  // communicator): the communication cost, for benchmarks and logs.
  struct Traffic {
    std::uint64_t bytes_sent = 0;
    std::uint64_t messages = 0;  // point-to-point sends and collective calls
    double seconds = 0;          // wall time inside the calls, waiting included
  };
  Traffic traffic() const;

  // sum() as the Accumulator's reduce option (datasets::AccumulatorOptions);
  // empty for the single process, so a one-rank run takes today's path.
  std::function<void(std::span<double>)> reducer() const;

 private:
  friend class Session;
  explicit Communicator(std::shared_ptr<const detail::Comm> comm) : comm_(std::move(comm)) {}
  std::shared_ptr<const detail::Comm> comm_;  // null: the single process
};

// The MPI environment of a program: MPI_Init when the program was started
// by an MPI launcher (launched_by_mpi()) and curv has MPI, MPI_Finalize at
// the end of its life; otherwise nothing, and world() is the single
// process. One per program, constructed in main before any other use.
class Session {
 public:
  Session(int& argc, char**& argv);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const Communicator& world() const { return world_; }

 private:
  bool initialized_ = false;
  Communicator world_;
};

// The contiguous share of n items that rank `rank` of `size` holds: the
// first n mod size ranks hold ⌈n/size⌉, the others ⌊n/size⌋, in rank order.
struct Range {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::size_t size() const { return end - begin; }
};
Range shard(std::size_t n, int rank, int size);

}  // namespace curv::dist
