// curv::dist over MPI's C interface, or the single process without it.
#include "curv/dist/communicator.hpp"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <stdexcept>
#include <string>

#if CURV_WITH_MPI
#include <mpi.h>
#endif

namespace curv::dist {

#if CURV_WITH_MPI
struct detail::Comm {
  MPI_Comm comm = MPI_COMM_NULL;
  int rank = 0;
  int size = 1;
  mutable Communicator::Traffic traffic;
  ~Comm() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized && comm != MPI_COMM_NULL) MPI_Comm_free(&comm);
  }
};
#else
struct detail::Comm {
  int rank = 0;
  int size = 1;
  mutable Communicator::Traffic traffic;
};
#endif

namespace {

#if CURV_WITH_MPI
void check(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw std::runtime_error(std::string("curv::dist: ") + call + " failed: " + std::string(text, length));
}

// Messages of at most this many elements: MPI counts are ints.
constexpr std::size_t kChunk = std::size_t{1} << 27;

// Adds a call's wall time to the traffic when it ends.
class Timed {
 public:
  explicit Timed(Communicator::Traffic& t) : t_(t), start_(std::chrono::steady_clock::now()) {}
  ~Timed() { t_.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }
  Timed(const Timed&) = delete;
  Timed& operator=(const Timed&) = delete;

 private:
  Communicator::Traffic& t_;
  std::chrono::steady_clock::time_point start_;
};

// MPI_Bcast in chunks, its traffic counted: for a binomial tree the bytes
// times this rank's children (an estimate: MPI picks the algorithm).
void broadcast_from(const detail::Comm& comm, std::span<std::byte> bytes, int root) {
  const int relative = (comm.rank - root + comm.size) % comm.size;
  int children = 0;
  for (int step = 1; step < comm.size; step *= 2)
    if (relative % (2 * step) == 0 && relative + step < comm.size) ++children;
  comm.traffic.bytes_sent += bytes.size() * static_cast<std::size_t>(children);
  ++comm.traffic.messages;
  for (std::size_t b = 0; b < bytes.size(); b += kChunk)
    check(MPI_Bcast(bytes.data() + b, static_cast<int>(std::min(kChunk, bytes.size() - b)), MPI_BYTE, root, comm.comm),
          "MPI_Bcast");
}
#endif

}  // namespace

bool built_with_mpi() {
#if CURV_WITH_MPI
  return true;
#else
  return false;
#endif
}

bool launched_by_mpi() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (const char* v = std::getenv(name); v && *v) return true;
  return false;
}

int Communicator::rank() const { return comm_ ? comm_->rank : 0; }
int Communicator::size() const { return comm_ ? comm_->size : 1; }

void Communicator::sum(std::span<double> x) const {
  if (size() == 1) return;
#if CURV_WITH_MPI
  // The binomial tree: at step s = 1, 2, 4, …, a rank r still in the tree
  // (r a multiple of s) either sends its partial sum, of ranks [r, r + s),
  // to r − s and leaves (r mod 2s = s), or adds the partial of [r + s,
  // r + 2s) after its own (r mod 2s = 0). Rank 0 ends with the total.
  const int r = rank(), k = size();
  Communicator::Traffic& traffic = comm_->traffic;
  const Timed timed(traffic);
  std::vector<double> other;
  for (int step = 1; step < k; step *= 2) {
    if (r % (2 * step) == step) {
      for (std::size_t b = 0; b < x.size(); b += kChunk)
        check(MPI_Send(x.data() + b, static_cast<int>(std::min(kChunk, x.size() - b)), MPI_DOUBLE, r - step, 0,
                       comm_->comm),
              "MPI_Send");
      traffic.bytes_sent += x.size_bytes();
      ++traffic.messages;
      break;
    }
    if (r + step >= k) continue;
    if (other.empty()) other.resize(x.size());
    for (std::size_t b = 0; b < x.size(); b += kChunk)
      check(MPI_Recv(other.data() + b, static_cast<int>(std::min(kChunk, x.size() - b)), MPI_DOUBLE, r + step, 0,
                     comm_->comm, MPI_STATUS_IGNORE),
            "MPI_Recv");
    for (std::size_t i = 0; i < x.size(); ++i) x[i] += other[i];
  }
  broadcast_from(*comm_, std::as_writable_bytes(x), 0);
#else
  (void)x;
#endif
}

void Communicator::broadcast(std::span<std::byte> bytes, int root) const {
  if (size() == 1) return;
#if CURV_WITH_MPI
  const Timed timed(comm_->traffic);
  broadcast_from(*comm_, bytes, root);
#else
  (void)bytes;
  (void)root;
#endif
}

std::vector<std::uint64_t> Communicator::all_gather(std::uint64_t value) const {
  std::vector<std::uint64_t> all(static_cast<std::size_t>(size()), value);
#if CURV_WITH_MPI
  if (size() > 1) {
    const Timed timed(comm_->traffic);
    comm_->traffic.bytes_sent += sizeof value * static_cast<std::size_t>(size() - 1);
    ++comm_->traffic.messages;
    check(MPI_Allgather(&value, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T, comm_->comm), "MPI_Allgather");
  }
#endif
  return all;
}

Communicator::Traffic Communicator::traffic() const { return comm_ ? comm_->traffic : Traffic{}; }

void Communicator::barrier() const {
#if CURV_WITH_MPI
  if (size() > 1) check(MPI_Barrier(comm_->comm), "MPI_Barrier");
#endif
}

void Communicator::abort(int code) const {
#if CURV_WITH_MPI
  if (comm_) MPI_Abort(comm_->comm, code);
#endif
  std::exit(code);
}

std::function<void(std::span<double>)> Communicator::reducer() const {
  if (size() == 1) return {};
  return [self = *this](std::span<double> x) { self.sum(x); };
}

Session::Session(int& argc, char**& argv) {
#if CURV_WITH_MPI
  if (!launched_by_mpi()) return;
  int provided = 0;
  // Funneled: curv calls MPI only from the thread that runs the optimizer
  // (the Accumulator reduces after its TBB pipeline has finished).
  check(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  initialized_ = true;
  auto comm = std::make_shared<detail::Comm>();
  check(MPI_Comm_dup(MPI_COMM_WORLD, &comm->comm), "MPI_Comm_dup");
  check(MPI_Comm_set_errhandler(comm->comm, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  check(MPI_Comm_rank(comm->comm, &comm->rank), "MPI_Comm_rank");
  check(MPI_Comm_size(comm->comm, &comm->size), "MPI_Comm_size");
  world_ = Communicator(std::move(comm));
#else
  (void)argc;
  (void)argv;
#endif
}

Session::~Session() {
  world_ = Communicator();
#if CURV_WITH_MPI
  if (initialized_) MPI_Finalize();
#endif
}

Range shard(std::size_t n, int rank, int size) {
  if (size < 1 || rank < 0 || rank >= size)
    throw std::invalid_argument("curv::dist::shard: rank " + std::to_string(rank) + " of " + std::to_string(size) +
                                ", expected 0 ≤ rank < size");
  const std::size_t k = static_cast<std::size_t>(size), r = static_cast<std::size_t>(rank);
  const std::size_t base = n / k, extra = n % k;
  const std::size_t begin = r * base + std::min(r, extra);
  return {begin, begin + base + (r < extra ? 1 : 0)};
}

}  // namespace curv::dist
