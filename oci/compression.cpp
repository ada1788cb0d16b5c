#include "oci/compression.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>
#include <zstd.h>

#include <fmt/core.h>

#include "oci/mediatype.hpp"

namespace kiln::oci {

namespace {

using mediatype::k_oci_layer_tar;
using mediatype::k_oci_layer_gzip;
using mediatype::k_oci_layer_zstd;

unsigned thread_count(unsigned requested)
{
  if (requested > 0) {
    return requested;
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

class PlainCompressor : public Compressor
{
public:
  explicit PlainCompressor(Sink& out) : m_out(out) {}
  Result<void> write(Chunk chunk) override { return m_out.write(chunk.data(), chunk.size()); }
  Result<void> finish() override { return {}; }

private:
  Sink& m_out;
};

// igzip, pigz-style: each chunk is deflated on its own by a worker thread
// (no back-references across chunks), every block but the last ends with a
// full flush on a byte boundary, so the pieces concatenate into one raw
// deflate stream inside one gzip member. igzip rather than libdeflate
// because libdeflate can only emit final blocks (see docs/layers.md).
class GzipCompressor : public Compressor
{
public:
  GzipCompressor(int level, unsigned threads, Sink& out) : m_level(level), m_out(out)
  {
    m_max_inflight = threads * 2 + 1;
    for (unsigned i = 0; i < threads; ++i) {
      m_workers.emplace_back([this] { work(); });
    }
  }

  ~GzipCompressor() override
  {
    {
      std::lock_guard lock(m_mutex);
      m_stopping = true;
    }
    m_work_cv.notify_all();
    for (auto& worker : m_workers) {
      worker.join();
    }
  }

  Result<void> write(Chunk chunk) override
  {
    if (chunk.empty()) {
      return {};
    }
    m_crc = crc32_gzip_refl(m_crc, chunk.data(), chunk.size());
    m_input_size += chunk.size();
    // A chunk is held back until the next one arrives: only then is it known
    // not to be the last.
    if (m_pending) {
      auto submitted = submit(std::move(*m_pending), Final::no);
      if (!submitted) {
        return submitted;
      }
    }
    m_pending = std::move(chunk);
    return {};
  }

  Result<void> finish() override
  {
    auto submitted = submit(m_pending ? std::move(*m_pending) : Chunk(), Final::yes);
    m_pending.reset();
    if (!submitted) {
      return submitted;
    }
    while (!m_inflight.empty()) {
      auto drained = drain_one();
      if (!drained) {
        return drained;
      }
    }
    unsigned char trailer[8];
    for (int i = 0; i < 4; ++i) {
      trailer[i] = static_cast<unsigned char>(m_crc >> (8 * i));
      trailer[4 + i] = static_cast<unsigned char>(m_input_size >> (8 * i));
    }
    return m_out.write(trailer, sizeof(trailer));
  }

private:
  enum class Final { yes, no };

  struct Job
  {
    Chunk input;
    Chunk output;
    Final final = Final::no;
    bool done = false;
    std::string error;
  };

  Result<void> submit(Chunk input, Final final)
  {
    if (!m_header_written) {
      // Fixed header: no name, mtime 0, OS "unix", so the bytes depend on
      // the content alone.
      static const unsigned char header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
      auto written = m_out.write(header, sizeof(header));
      if (!written) {
        return written;
      }
      m_header_written = true;
    }
    while (m_inflight.size() >= m_max_inflight) {
      auto drained = drain_one();
      if (!drained) {
        return drained;
      }
    }
    auto job = std::make_shared<Job>();
    job->input = std::move(input);
    job->final = final;
    {
      std::lock_guard lock(m_mutex);
      m_inflight.push_back(job);
      m_queue.push_back(job);
    }
    m_work_cv.notify_one();
    return {};
  }

  // Writes the oldest job's output once it is compressed: output order is
  // submission order whatever order the workers finish in.
  Result<void> drain_one()
  {
    std::shared_ptr<Job> job;
    {
      std::unique_lock lock(m_mutex);
      m_done_cv.wait(lock, [&] { return m_inflight.front()->done; });
      job = m_inflight.front();
      m_inflight.pop_front();
    }
    if (!job->error.empty()) {
      return fail(job->error);
    }
    return m_out.write(job->output.data(), job->output.size());
  }

  void work()
  {
    std::vector<unsigned char> level_buffer(level_buffer_size());
    for (;;) {
      std::shared_ptr<Job> job;
      {
        std::unique_lock lock(m_mutex);
        m_work_cv.wait(lock, [&] { return m_stopping || !m_queue.empty(); });
        if (m_queue.empty()) {
          return;
        }
        job = m_queue.front();
        m_queue.pop_front();
      }
      compress(*job, level_buffer);
      {
        std::lock_guard lock(m_mutex);
        job->done = true;
      }
      m_done_cv.notify_all();
    }
  }

  size_t level_buffer_size() const
  {
    switch (m_level) {
    case 0: return ISAL_DEF_LVL0_DEFAULT;
    case 1: return ISAL_DEF_LVL1_DEFAULT;
    case 2: return ISAL_DEF_LVL2_DEFAULT;
    default: return ISAL_DEF_LVL3_DEFAULT;
    }
  }

  void compress(Job& job, std::vector<unsigned char>& level_buffer)
  {
    isal_zstream stream;
    isal_deflate_init(&stream);
    stream.level = static_cast<uint32_t>(m_level);
    stream.level_buf = level_buffer.empty() ? nullptr : level_buffer.data();
    stream.level_buf_size = static_cast<uint32_t>(level_buffer.size());
    stream.end_of_stream = job.final == Final::yes ? 1 : 0;
    stream.flush = job.final == Final::yes ? NO_FLUSH : FULL_FLUSH;
    stream.next_in = job.input.data();
    stream.avail_in = static_cast<uint32_t>(job.input.size());
    job.output.resize(job.input.size() + job.input.size() / 16 + 4096);
    size_t produced = 0;
    for (;;) {
      stream.next_out = job.output.data() + produced;
      stream.avail_out = static_cast<uint32_t>(job.output.size() - produced);
      int rc = isal_deflate(&stream);
      if (rc != COMP_OK) {
        job.error = fmt::format("gzip compress: igzip error {}", rc);
        return;
      }
      produced = job.output.size() - stream.avail_out;
      bool complete = stream.avail_in == 0 &&
                      (job.final == Final::yes ? stream.internal_state.state == ZSTATE_END
                                               : stream.internal_state.state == ZSTATE_NEW_HDR);
      if (complete) {
        break;
      }
      if (stream.avail_out == 0) {
        job.output.resize(job.output.size() * 2);
      }
    }
    job.output.resize(produced);
    job.input = Chunk();
  }

  int m_level;
  Sink& m_out;
  size_t m_max_inflight;
  std::vector<std::thread> m_workers;
  std::mutex m_mutex;
  std::condition_variable m_work_cv;
  std::condition_variable m_done_cv;
  std::deque<std::shared_ptr<Job>> m_queue;
  std::deque<std::shared_ptr<Job>> m_inflight;
  bool m_stopping = false;
  std::optional<Chunk> m_pending;
  bool m_header_written = false;
  uint32_t m_crc = 0;
  uint64_t m_input_size = 0;
};

class ZstdCompressor : public Compressor
{
public:
  ZstdCompressor(int level, unsigned threads, Sink& out) : m_out(out), m_ctx(ZSTD_createCCtx())
  {
    ZSTD_CCtx_setParameter(m_ctx, ZSTD_c_compressionLevel, level);
    // Always at least one worker: libzstd's multi-threaded format is the
    // same whatever the number of workers, but differs from nbWorkers = 0.
    ZSTD_CCtx_setParameter(m_ctx, ZSTD_c_nbWorkers, static_cast<int>(std::max(1u, threads)));
    m_buffer.resize(ZSTD_CStreamOutSize());
  }
  ~ZstdCompressor() override { ZSTD_freeCCtx(m_ctx); }

  Result<void> write(Chunk chunk) override { return run(chunk.data(), chunk.size(), ZSTD_e_continue); }
  Result<void> finish() override { return run(nullptr, 0, ZSTD_e_end); }

private:
  Result<void> run(const void* data, size_t size, ZSTD_EndDirective mode)
  {
    ZSTD_inBuffer in{data, size, 0};
    for (;;) {
      ZSTD_outBuffer out{m_buffer.data(), m_buffer.size(), 0};
      size_t remaining = ZSTD_compressStream2(m_ctx, &out, &in, mode);
      if (ZSTD_isError(remaining)) {
        return fail(fmt::format("zstd compress: {}", ZSTD_getErrorName(remaining)));
      }
      if (out.pos > 0) {
        auto written = m_out.write(m_buffer.data(), out.pos);
        if (!written) {
          return written;
        }
      }
      bool done = mode == ZSTD_e_end ? remaining == 0 : in.pos == in.size;
      if (done) {
        return {};
      }
    }
  }

  Sink& m_out;
  ZSTD_CCtx* m_ctx;
  std::vector<unsigned char> m_buffer;
};

} // namespace

Result<Compression> parse_compression(std::string_view name)
{
  if (name == "none" || name == "uncompressed") {
    return Compression::none;
  }
  if (name == "gzip") {
    return Compression::gzip;
  }
  if (name == "zstd") {
    return Compression::zstd;
  }
  return fail(fmt::format("unknown compression \"{}\" (choose none, gzip or zstd)", name));
}

std::string_view compression_name(Compression compression)
{
  switch (compression) {
  case Compression::none: return "none";
  case Compression::gzip: return "gzip";
  case Compression::zstd: return "zstd";
  }
  return "none";
}

std::string_view layer_media_type(Compression compression)
{
  switch (compression) {
  case Compression::none: return k_oci_layer_tar;
  case Compression::gzip: return k_oci_layer_gzip;
  case Compression::zstd: return k_oci_layer_zstd;
  }
  return k_oci_layer_tar;
}

std::optional<Compression> compression_of_media_type(std::string_view media_type)
{
  switch (mediatype::layer_compression(media_type)) {
  case mediatype::LayerCompression::none: return Compression::none;
  case mediatype::LayerCompression::gzip: return Compression::gzip;
  case mediatype::LayerCompression::zstd: return Compression::zstd;
  case mediatype::LayerCompression::unknown: break;
  }
  return std::nullopt;
}

int default_level(Compression compression)
{
  return compression == Compression::none ? 0 : 3;
}

Result<std::unique_ptr<Compressor>> Compressor::make(const CompressionOptions& options, Sink& out)
{
  int level = options.level.value_or(default_level(options.kind));
  unsigned threads = thread_count(options.threads);
  switch (options.kind) {
  case Compression::none:
    return std::make_unique<PlainCompressor>(out);
  case Compression::gzip:
    if (level < 0 || level > 9) {
      return fail(fmt::format("gzip compression level {} is out of range (0-9)", level));
    }
    return std::make_unique<GzipCompressor>(std::min(level, ISAL_DEF_MAX_LEVEL), threads, out);
  case Compression::zstd:
    if (level < 1 || level > ZSTD_maxCLevel()) {
      return fail(fmt::format("zstd compression level {} is out of range (1-{})", level, ZSTD_maxCLevel()));
    }
    return std::make_unique<ZstdCompressor>(level, threads, out);
  }
  return fail("unknown compression");
}

} // namespace kiln::oci
