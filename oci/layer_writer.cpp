#include "oci/layer_writer.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <thread>

#include <unistd.h>

#include <fmt/core.h>

#include "base/error.hpp"
#include "base/strings.hpp"
#include "oci/bounded_queue.hpp"
#include "oci/tar_writer.hpp"

namespace kiln::oci {

namespace {

// Counts and hashes what passes through to the real sink (the blob digest).
class HashingSink : public Sink
{
public:
  explicit HashingSink(Sink& out) : m_out(out) {}
  Result<void> write(const void* data, size_t size) override
  {
    m_hasher.update(data, size);
    return m_out.write(data, size);
  }
  Hasher& hasher() { return m_hasher; }

private:
  Sink& m_out;
  Hasher m_hasher;
};

// The tar stream cut into fixed-size chunks; file content is read straight
// into the chunk being filled.
class ChunkStream
{
public:
  explicit ChunkStream(BoundedQueue<Chunk>& queue) : m_queue(queue) { fresh(); }

  Result<void> append(const void* data, size_t size)
  {
    const auto* p = static_cast<const unsigned char*>(data);
    while (size > 0) {
      size_t n = std::min(size, k_chunk_size - m_fill);
      std::memcpy(m_chunk.data() + m_fill, p, n);
      m_fill += n;
      p += n;
      size -= n;
      if (m_fill == k_chunk_size && !flush()) {
        return fail("layer pipeline stopped");
      }
    }
    return {};
  }

  Result<void> append_zeros(size_t size)
  {
    static const unsigned char zeros[1024] = {};
    while (size > 0) {
      size_t n = std::min(size, sizeof(zeros));
      auto appended = append(zeros, n);
      if (!appended) {
        return appended;
      }
      size -= n;
    }
    return {};
  }

  // Reads exactly `size` bytes of fd into the stream.
  Result<void> append_file(int fd, uint64_t size, const std::string& path)
  {
    while (size > 0) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(size, k_chunk_size - m_fill));
      ssize_t n = ::read(fd, m_chunk.data() + m_fill, want);
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        return fail(fmt::format("read \"{}\": {}", path, errno_text(errno)));
      }
      if (n == 0) {
        return fail(
            fmt::format("read \"{}\": file shrank while it was being read ({} bytes missing)", path, size));
      }
      m_fill += static_cast<size_t>(n);
      size -= static_cast<uint64_t>(n);
      if (m_fill == k_chunk_size && !flush()) {
        return fail("layer pipeline stopped");
      }
    }
    return {};
  }

  bool finish() { return m_fill == 0 || flush(); }

private:
  void fresh()
  {
    m_chunk.resize(k_chunk_size);
    m_fill = 0;
  }

  bool flush()
  {
    m_chunk.resize(m_fill);
    bool pushed = m_queue.push(std::move(m_chunk));
    m_chunk = Chunk();
    fresh();
    return pushed;
  }

  BoundedQueue<Chunk>& m_queue;
  Chunk m_chunk;
  size_t m_fill = 0;
};

std::string parent_of(const std::string& path)
{
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

std::string base_of(const std::string& path)
{
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool valid_layer_path(const std::string& path)
{
  if (path.empty() || path.front() == '/' || path.back() == '/') {
    return false;
  }
  for (auto part : split(path, '/')) {
    if (part.empty() || part == "." || part == "..") {
      return false;
    }
  }
  return true;
}

// The ".wh.NAME" or ".wh..wh..opq" entry that writes a deletion.
Result<LayerEntry> marker_entry(const Deletion& deletion, std::optional<int64_t> epoch)
{
  bool opaque = deletion.kind == DeletionKind::opaque;
  if (!(opaque && deletion.path.empty()) && !valid_layer_path(deletion.path)) {
    return fail(fmt::format("layer deletion \"{}\": not a clean relative path", deletion.path));
  }
  std::string parent = opaque ? deletion.path : parent_of(deletion.path);
  std::string base = opaque ? ".wh..wh..opq" : ".wh." + base_of(deletion.path);
  LayerEntry marker;
  marker.path = parent.empty() ? base : parent + "/" + base;
  marker.type = EntryType::regular;
  marker.mode = 0;
  marker.mtime = epoch.value_or(0);
  return marker;
}

Result<Fd> open_content(const LayerEntry& entry)
{
  if (entry.open) {
    return entry.open();
  }
  if (entry.source_root) {
    return open_beneath(entry.source_root->get(), entry.path);
  }
  return fail(fmt::format("layer entry \"{}\": no content source", entry.path));
}

// Turns entries arriving in layer order into the tar stream, checking the
// order as it goes: memory holds the previous path and the first path of
// each multiply-linked inode, never the entry list.
class TarProducer
{
public:
  TarProducer(ChunkStream& stream, std::optional<int64_t> epoch) : m_stream(stream), m_epoch(epoch) {}

  Result<void> put(LayerItem item)
  {
    if (auto* deletion = std::get_if<Deletion>(&item)) {
      auto marker = marker_entry(*deletion, m_epoch);
      if (!marker) {
        return fail(marker.error());
      }
      return put(std::move(*marker));
    }
    return put(std::get<LayerEntry>(std::move(item)));
  }

  Result<void> put(LayerEntry entry)
  {
    if (!valid_layer_path(entry.path)) {
      return fail(fmt::format("layer entry \"{}\": not a clean relative path", entry.path));
    }
    if (m_count > 0 && entry.path <= m_previous) {
      return fail(
          entry.path == m_previous
              ? fmt::format("layer entry \"{}\": listed twice", entry.path)
              : fmt::format("layer entry \"{}\": after \"{}\", out of layer order", entry.path, m_previous));
    }
    m_previous = entry.path;
    ++m_count;
    if (m_epoch && entry.mtime > *m_epoch) {
      entry.mtime = *m_epoch;
    }
    // Hardlinks: the first path of an inode in layer order carries the data.
    if (entry.type == EntryType::regular && entry.nlink >= 2 && entry.inode != 0) {
      auto [it, inserted] = m_first_path.try_emplace({entry.device, entry.inode}, entry.path);
      if (!inserted) {
        entry.type = EntryType::hardlink;
        entry.hardlink_target = it->second;
        entry.size = 0;
      }
    }
    std::string header =
        tar_header(entry, entry.type == EntryType::directory ? entry.path + "/" : entry.path, entry.mtime);
    auto appended = m_stream.append(header.data(), header.size());
    if (!appended || entry.type != EntryType::regular || entry.size == 0) {
      return appended;
    }
    auto fd = open_content(entry);
    if (!fd) {
      return fail(fd.error());
    }
    auto copied = m_stream.append_file(fd->get(), entry.size, entry.path);
    if (!copied) {
      return copied;
    }
    return m_stream.append_zeros(tar_padding(entry.size));
  }

  uint64_t count() const { return m_count; }

  Result<void> finish()
  {
    auto appended = m_stream.append_zeros(1024);
    if (!appended) {
      return appended;
    }
    if (!m_stream.finish()) {
      return fail("layer pipeline stopped");
    }
    return {};
  }

private:
  ChunkStream& m_stream;
  std::optional<int64_t> m_epoch;
  std::string m_previous;
  uint64_t m_count = 0;
  std::map<std::pair<uint64_t, uint64_t>, std::string> m_first_path;
};

// Runs the pipeline: `produce` feeds a TarProducer on the caller's thread
// while another thread hashes the tar stream and hands it to the compressor.
Result<LayerResult> run_pipeline(const LayerWriteOptions& options, Sink& out,
                                 const std::function<Result<void>(TarProducer&)>& produce)
{
  HashingSink blob(out);
  auto compressor = Compressor::make(options.compression, blob);
  if (!compressor) {
    return fail(compressor.error());
  }

  BoundedQueue<Chunk> queue(2);
  Hasher diff_hasher;
  Result<void> consumed;
  std::thread consumer([&] {
    while (auto chunk = queue.pop()) {
      diff_hasher.update(chunk->data(), chunk->size());
      consumed = (*compressor)->write(std::move(*chunk));
      if (!consumed) {
        queue.close();
        return;
      }
    }
    consumed = (*compressor)->finish();
  });
  ChunkStream stream(queue);
  TarProducer producer(stream, options.source_date_epoch);
  auto produced = produce(producer);
  if (produced) {
    produced = producer.finish();
  }
  if (!produced) {
    queue.close();
  } else {
    queue.finish();
  }
  consumer.join();
  if (!consumed) {
    return fail(fmt::format("write layer: {}", consumed.error()));
  }
  if (!produced) {
    return fail(fmt::format("write layer: {}", produced.error()));
  }
  LayerResult result{diff_hasher.finish(), blob.hasher().finish(), blob.hasher().bytes(),
                     std::string(layer_media_type(options.compression.kind)), producer.count()};
  return result;
}

} // namespace

Result<LayerResult> write_layer(std::vector<LayerEntry> entries, std::vector<Deletion> deletions,
                                const LayerWriteOptions& options, Sink& out)
{
  std::vector<LayerEntry> items = std::move(entries);
  items.reserve(items.size() + deletions.size());
  for (const auto& deletion : deletions) {
    auto marker = marker_entry(deletion, options.source_date_epoch);
    if (!marker) {
      return fail(marker.error());
    }
    items.push_back(std::move(*marker));
  }
  std::sort(items.begin(), items.end(),
            [](const LayerEntry& a, const LayerEntry& b) { return a.path < b.path; });
  return run_pipeline(options, out, [&](TarProducer& producer) -> Result<void> {
    for (auto& item : items) {
      auto put = producer.put(std::move(item));
      if (!put) {
        return put;
      }
    }
    return {};
  });
}

Result<LayerResult> write_layer_ordered(const LayerItemSource& source, const LayerWriteOptions& options,
                                        Sink& out)
{
  return run_pipeline(options, out, [&](TarProducer& producer) {
    return source([&](LayerItem item) { return producer.put(std::move(item)); });
  });
}

Result<LayerResult> write_layer_tree(int dir_fd, WalkMode mode, const LayerWriteOptions& options, Sink& out)
{
  return write_layer_ordered(
      [&](const LayerItemVisitor& emit) { return walk_tree_ordered(dir_fd, mode, emit); }, options, out);
}

Result<std::optional<int64_t>> source_date_epoch_from_env()
{
  const char* value = std::getenv("SOURCE_DATE_EPOCH");
  if (value == nullptr || *value == '\0') {
    return std::optional<int64_t>();
  }
  auto parsed = parse_u64(value);
  if (!parsed || *parsed > static_cast<uint64_t>(INT64_MAX)) {
    return fail(fmt::format("SOURCE_DATE_EPOCH=\"{}\": not a non-negative number of seconds", value));
  }
  return std::optional<int64_t>(static_cast<int64_t>(*parsed));
}

} // namespace kiln::oci
