#include "builder/engine.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <ctime>

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <poll.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <fmt/core.h>

#include "base/error.hpp"
#include "base/fileio.hpp"
#include "base/strings.hpp"
#include "builder/buildcache.hpp"
#include "builder/copy.hpp"
#include "builder/flags.hpp"
#include "builder/ignore.hpp"
#include "builder/modeljson.hpp"
#include "builder/nsexec.hpp"
#include "builder/parser.hpp"
#include "builder/prefetch.hpp"
#include "builder/rootfs.hpp"
#include "builder/rootpath.hpp"
#include "builder/statcache.hpp"
#include "builder/upper.hpp"
#include "builder/userdb.hpp"
#include "oci/assemble.hpp"
#include "oci/layer_apply.hpp"
#include "oci/layer_members.hpp"
#include "oci/layer_writer.hpp"
#include "oci/mediatype.hpp"
#include "oci/tar_writer.hpp"
#include "oci/transport.hpp"
#include "oci/tree_walk.hpp"
#include "signer/policy.hpp"
#include "signer/source.hpp"

namespace fs = std::filesystem;

namespace kiln::builder {

namespace {

template<typename T> T must(Result<T> result, std::string_view where)
{
  if (!result) {
    throw Error(where.empty() ? result.error() : fmt::format("{}: {}", where, result.error()));
  }
  return std::move(*result);
}

void must(Result<void> result, std::string_view where)
{
  if (!result) {
    throw Error(where.empty() ? result.error() : fmt::format("{}: {}", where, result.error()));
  }
}

// Under --jobs, "[N/M] " of the stage this thread builds: the lines of
// stages built at once interleave, so each says its stage.
thread_local std::string t_stage_label;

// A RUN's output under --jobs: whole lines, each after its stage's label.
class LabelledOutput
{
public:
  using Output = std::function<void(OutputStream, std::string_view)>;
  LabelledOutput(std::string label, Output out) : m_label(std::move(label)), m_out(std::move(out)) {}

  void feed(OutputStream stream, std::string_view chunk)
  {
    std::string& partial = partial_of(stream);
    partial.append(chunk);
    size_t start = 0;
    for (size_t end; (end = partial.find('\n', start)) != std::string::npos; start = end + 1) {
      m_out(stream, m_label + partial.substr(start, end + 1 - start));
    }
    partial.erase(0, start);
  }

  // A last line without its newline.
  void flush()
  {
    for (auto stream : {OutputStream::out, OutputStream::err}) {
      std::string& partial = partial_of(stream);
      if (!partial.empty()) {
        m_out(stream, m_label + partial + "\n");
        partial.clear();
      }
    }
  }

private:
  std::string& partial_of(OutputStream stream) { return m_partial[stream == OutputStream::out ? 0 : 1]; }

  std::string m_label;
  Output m_out;
  std::string m_partial[2];
};

std::string where(const Step& step)
{
  return fmt::format("{}:{}", step.source.file, step.source.line);
}

std::string join_path(std::string_view dir, std::string_view path)
{
  if (path.starts_with('/')) {
    return std::string(path);
  }
  std::string base(dir.empty() ? "/" : dir);
  if (!base.ends_with('/')) {
    base += '/';
  }
  return base + std::string(path);
}

enum class CacheOutcome { hit, changed, unknown };

struct WrittenLayer
{
  oci::Descriptor descriptor;
  oci::Digest diff_id;
};

struct PendingLayer
{
  WrittenLayer layer;
  fs::path dir;           // when known (an earlier build's), else made on demand
  bool whiteouts = false; // a RUN's: applying it alone would lose its deletions
};

struct StageState
{
  std::string base; // the base image's manifest digest, or "scratch"
  oci::ImageConfig config;
  std::vector<oci::Descriptor> layers;
  std::vector<fs::path> lowers;
  std::vector<std::pair<std::string, std::string>> args;
  std::map<std::string, std::string> annotations;
  std::optional<fs::path> flattened;
  // Layers above `lowers` whose directories are not made yet: a COPY's files
  // are written to disk only when a later step needs the stage's
  // filesystem (creating files is the slow part of a build).
  std::vector<PendingLayer> pending;
  std::vector<std::string> triggers; // the base image's ONBUILD triggers, still to run
  // How the last step fared in the cache: a miss after something changed
  // makes the next miss "parent changed"; a miss on a state never built
  // on (a first build) stays "not in the cache".
  CacheOutcome last = CacheOutcome::hit;
};

// A layer a step made and the lower directory holding its files (empty:
// not made yet; `whiteouts` when the layer may delete lower files).
struct Produced
{
  WrittenLayer layer;
  fs::path lower;
  bool whiteouts = false;
};

// What a step's cache key needs, worked out before the lookup and reused
// by the build on a miss (the context is walked once).
struct Prepared
{
  StepInputs inputs;
  std::optional<SourceManifest> manifest; // files read from the context
  CopyRequest request;                    // COPY/ADD
  std::optional<CopyPlan> plan;           // COPY/ADD from the context
  std::optional<oci::Image> image;        // COPY --from an image, verified
  uint64_t files_hashed = 0;              // context files read for the key
  uint64_t bytes_hashed = 0;
};

// The instruction for messages: "COPY src/", "RUN".
std::string short_name(const Step& step)
{
  if ((step.kind == StepKind::copy || step.kind == StepKind::add) && step.args.size() >= 2) {
    std::string sources;
    for (size_t i = 0; i + 1 < step.args.size(); ++i) {
      sources += " " + step.args[i];
    }
    return step.instruction + (sources.size() > 60 ? sources.substr(0, 57) + "..." : sources);
  }
  return step.instruction;
}

class Engine
{
public:
  explicit Engine(const BuildOptions& options) : m_options(options), m_map(current_id_map()) {}

  ~Engine()
  {
    m_prefetch.stop();
    write_cache_log(); // a failed build's decisions too
    if (m_scratch) {
      (void)remove_tree(m_scratch->path(), m_map);
      m_scratch->release();
    }
  }

  BuildResult run()
  {
    ParseOptions parse_options;
    parse_options.file = m_options.containerfile.filename().string();
    parse_options.build_args = m_options.build_args;
    parse_options.target = m_options.target;
    parse_options.target_platform.os = m_options.platform.os;
    parse_options.target_platform.arch = m_options.platform.architecture;
    parse_options.target_platform.variant = m_options.platform.variant;
    // Variables in a stage see the base image's ENV (ENV PATH=/x:$PATH), as in
    // Docker. Only the config is read here; the trust check still comes
    // before anything of the image is extracted, at the stage's start.
    parse_options.base_env = [this](const std::string& text) -> std::optional<EnvList> {
      auto reference = oci::ImageReference::parse(text);
      auto source = reference ? oci::ImageSource::open(*reference) : Result<oci::ImageSource>(fail(""));
      auto image = source ? oci::load_image(source->layout(), source->top(), m_options.platform)
                          : Result<oci::Image>(fail(""));
      if (!image) {
        return std::nullopt; // the stage's start reports why
      }
      EnvList env;
      for (const auto& entry : image->config.config.env) {
        size_t eq = entry.find('=');
        env.emplace_back(entry.substr(0, eq), eq == std::string::npos ? "" : entry.substr(eq + 1));
      }
      return env;
    };
    m_parse_options = parse_options;
    Build model = parse_file(m_options.containerfile, parse_options);
    for (const auto& diagnostic : model.diagnostics) {
      progress(diagnostic.format());
    }
    load_ignore_file();

    fs::path cache = m_options.cache_dir;
    std::error_code ec;
    fs::create_directories(cache / "tmp", ec);
    m_cache = must(BuildCache::open(cache), "");
    m_scratch = std::make_unique<TempDir>(cache / "tmp", "build-");
    ::chmod(m_scratch->path().c_str(), 0755);
    // Every blob a build reads or writes lives in the cache's layout; the
    // image is copied from there to each destination.
    m_work = m_cache->blobs();
    m_rootfs = must(RootfsCache::open(cache / "rootfs", m_map), "");
    m_stat = StatCache::load(cache, m_options.context);
    if (!m_map.warning.empty()) {
      progress(fmt::format("warning: {}", m_map.warning));
    }

    size_t needed = 0;
    for (const auto& stage : model.stages) {
      needed += stage.needed ? 1 : 0;
    }
    m_stages.resize(model.stages.size());
    std::vector<std::pair<const Stage*, size_t>> numbered; // needed stages, numbered in file order
    for (const auto& stage : model.stages) {
      if (stage.needed) {
        numbered.emplace_back(&stage, numbered.size() + 1);
      }
    }
    prefetch_bases(numbered);
    if (m_options.jobs <= 1) {
      for (const auto& [stage, number] : numbered) {
        build_stage(*stage, number, needed);
      }
    } else {
      build_concurrently(numbered, needed);
    }
    StageState& final_state = *m_stages[static_cast<size_t>(model.target)];
    BuildResult result = write_output(final_state);
    if (auto saved = m_stat.save(); !saved) {
      progress(fmt::format("warning: stat cache not saved: {}", saved.error()));
    }
    write_cache_log();
    result.steps = m_steps.load();
    result.cached = m_cached.load();
    result.files_checked = m_stat.files_seen();
    result.files_hashed = m_stat.files_hashed();
    result.bytes_hashed = m_stat.bytes_hashed();
    progress(fmt::format("cache: {} of {} steps cached; context: {} files checked, {} read, {} bytes hashed",
                         result.cached, result.steps, result.files_checked, result.files_hashed, result.bytes_hashed));
    return result;
  }

private:
  void build_stage(const Stage& stage, size_t number, size_t needed)
  {
    StageState state = start_stage(stage, number, needed);
    m_prefetch.start(10);
    // The base's ONBUILD triggers run first, as Docker runs them.
    auto triggers = std::move(state.triggers);
    state.triggers.clear();
    for (const auto& step : onbuild_steps(stage, triggers)) {
      progress(fmt::format("[{}/{}] ONBUILD {}", number, needed, step.text));
      cached_step(state, step, fmt::format("{}/onbuild", number));
    }
    for (size_t i = 0; i < stage.steps.size(); ++i) {
      const Step& step = stage.steps[i];
      progress(fmt::format("[{}/{}] STEP {}/{}: {}", number, needed, i + 2, stage.steps.size() + 1, step.text));
      cached_step(state, step, fmt::format("{}/{}", number, i + 2));
      if (m_options.cancel_fd >= 0 && cancelled()) {
        throw Error("build cancelled");
      }
    }
    std::lock_guard lock(m_mutex);
    m_stages[static_cast<size_t>(stage.index)] = std::move(state);
  }

  // The stages a stage reads: its base stage, COPY --from and RUN --mount
  // from= stages.
  static std::set<int> dependencies(const Stage& stage)
  {
    std::set<int> out;
    if (stage.base.kind == StageBase::Kind::stage) {
      out.insert(stage.base.stage);
    }
    for (const auto& step : stage.steps) {
      if (step.from_stage) {
        out.insert(*step.from_stage);
      }
      for (const auto& mount : step.mounts) {
        if (mount.from_stage) {
          out.insert(*mount.from_stage);
        }
      }
    }
    return out;
  }

  // --jobs N: up to N stages at once, each as soon as the stages it reads
  // are built. The first failure stops new stages; running ones finish.
  void build_concurrently(const std::vector<std::pair<const Stage*, size_t>>& numbered, size_t needed)
  {
    std::mutex mutex;
    std::condition_variable changed;
    std::set<int> done;
    std::set<int> started;
    std::exception_ptr failure;
    size_t running = 0;
    std::vector<std::thread> threads;
    std::unique_lock lock(mutex);
    while (done.size() < numbered.size()) {
      for (const auto& [stage, number] : numbered) {
        if (failure || running >= m_options.jobs || started.contains(stage->index)) {
          continue;
        }
        auto deps = dependencies(*stage);
        if (!std::includes(done.begin(), done.end(), deps.begin(), deps.end())) {
          continue;
        }
        started.insert(stage->index);
        ++running;
        threads.emplace_back([&, stage = stage, number = number] {
          std::exception_ptr error;
          t_stage_label = fmt::format("[{}/{}] ", number, needed);
          try {
            build_stage(*stage, number, needed);
          } catch (...) {
            error = std::current_exception();
          }
          std::lock_guard guard(mutex);
          --running;
          if (error && !failure) {
            failure = error;
          }
          done.insert(stage->index);
          changed.notify_all();
        });
      }
      if (failure && running == 0) {
        break;
      }
      changed.wait(lock);
    }
    lock.unlock();
    for (auto& thread : threads) {
      thread.join();
    }
    if (failure) {
      std::rethrow_exception(failure);
    }
  }

  void progress(std::string_view line) const
  {
    if (!m_options.progress) {
      return;
    }
    if (!t_stage_label.empty() && !line.starts_with(t_stage_label)) {
      m_options.progress(t_stage_label + std::string(line));
    } else {
      m_options.progress(line);
    }
  }

  // The timing line after each step (the cache issue adds CACHED or the
  // reason for a miss here).
  void progress_time(std::chrono::steady_clock::time_point started) const
  {
    std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
    progress(fmt::format("--> done in {:.2f} s", elapsed.count()));
  }

  // The key of a stage's state: what the next step sees (files through
  // the layers' diff_ids, and the config); history times are left out. ARG
  // values are not part of it: as in Docker, a changed ARG misses where it
  // is used (RUN keys on the ARGs in scope; other steps on their expanded
  // text), not where it is defined.
  static std::string state_key(const StageState& state)
  {
    oci::ImageConfig config = state.config;
    config.history.clear();
    config.created.clear();
    return oci::Digest::of(fmt::format("kiln-state-1\n{}\n{}", state.base, config.serialize())).hex();
  }

  std::string stage_key(int index, const Step& step) const
  {
    const auto& source = m_stages.at(static_cast<size_t>(index));
    if (!source) {
      throw Error(fmt::format("{}: stage {} was not built", where(step), index));
    }
    return state_key(*source);
  }

  // What decides the bytes of a layer and the times in history.
  std::string layer_options_text() const
  {
    const auto& c = m_options.compression;
    return fmt::format("{}:{}:{}", oci::compression_name(c.kind),
                       c.level.value_or(oci::default_level(c.kind)),
                       m_options.epoch ? std::to_string(*m_options.epoch) : "now");
  }

  StepInputs base_inputs(const StageState& state, const Step& step) const
  {
    StepInputs inputs;
    inputs.parent = state_key(state);
    inputs.kind = step.instruction;
    inputs.instruction = oci::Json::parse(to_json(step).dump());
    inputs.instruction.erase("at");
    if (step.kind == StepKind::arg) {
      oci::Json names = oci::Json::array();
      for (const auto& pair : step.pairs) {
        names.push_back(pair.key);
      }
      inputs.instruction["pairs"] = names;
    }
    inputs.platform = m_options.platform.str();
    inputs.layer = layer_options_text();
    inputs.location = where(step);
    inputs.summary = step.text.size() > 200 ? step.text.substr(0, 197) + "..." : step.text;
    return inputs;
  }

  // The manifest of entries read from the context: everything the layer
  // keeps of each (never mtimes or inode numbers), contents by digest
  // through the stat cache.
  SourceManifest manifest_of(const std::vector<oci::LayerEntry>& entries, const std::vector<std::string>& origins,
                             const Step& step, Prepared& prepared)
  {
    std::lock_guard lock(m_stat_mutex);
    uint64_t files_before = m_stat.files_hashed();
    uint64_t bytes_before = m_stat.bytes_hashed();
    SourceManifest manifest;
    manifest.files.reserve(entries.size());
    std::map<std::pair<uint64_t, uint64_t>, std::string> linked; // (device, inode) → first path
    for (size_t i = 0; i < entries.size(); ++i) {
      const auto& entry = entries[i];
      const std::string& origin = i < origins.size() ? origins[i] : std::string();
      std::string content;
      if (entry.type == oci::EntryType::regular) {
        content = hardlink_mark(entry, linked);
        if (content.empty()) {
          auto fd = open_entry(entry);
          auto digest = fd ? m_stat.digest(origin, fd->get()) : Result<oci::Digest>(fail(fd.error()));
          if (!digest) {
            throw Error(fmt::format("{}: {} \"{}\": {}", where(step), step.instruction,
                                    origin.empty() ? entry.path : origin, digest.error()));
          }
          content = digest->str();
        }
      }
      manifest.files.emplace_back(origin.empty() ? "/" + entry.path : origin, entry_record(entry, content).hex());
    }
    std::sort(manifest.files.begin(), manifest.files.end());
    prepared.files_hashed += m_stat.files_hashed() - files_before;
    prepared.bytes_hashed += m_stat.bytes_hashed() - bytes_before;
    return manifest;
  }

  // "=FIRST" for the second and later paths of a hardlinked file (a
  // hardlink in the layer), "" otherwise.
  static std::string hardlink_mark(const oci::LayerEntry& entry,
                                   std::map<std::pair<uint64_t, uint64_t>, std::string>& linked)
  {
    if (entry.nlink > 1 && entry.inode != 0) {
      auto [it, first] = linked.emplace(std::pair{entry.device, entry.inode}, entry.path);
      if (!first) {
        return "=" + it->second;
      }
    }
    return "";
  }

  static Result<Fd> open_entry(const oci::LayerEntry& entry)
  {
    return entry.open ? entry.open()
           : entry.source_root ? oci::open_beneath(entry.source_root->get(), entry.path)
                               : Result<Fd>(fail("no way to open it"));
  }

  // Everything a layer keeps of an entry, content by digest; never mtimes
  // or inode numbers.
  static oci::Digest entry_record(const oci::LayerEntry& entry, const std::string& content)
  {
    std::string xattrs;
    for (const auto& [name, value] : entry.xattrs) {
      xattrs += fmt::format("{}={};", name,
                            hex_encode({reinterpret_cast<const unsigned char*>(value.data()), value.size()}));
    }
    return oci::Digest::of(fmt::format("{}\n{}\n{:o}\n{}:{}\n{}\n{}\n{}:{}\n{}\n{}", entry.path,
                                       static_cast<int>(entry.type), entry.mode, entry.uid, entry.gid,
                                       entry.link_target, entry.hardlink_target, entry.dev_major, entry.dev_minor,
                                       xattrs, content));
  }

  // Works out everything the step's key needs.
  Prepared prepare(StageState& state, const Step& step)
  {
    Prepared prepared;
    prepared.inputs = base_inputs(state, step);
    StepInputs& inputs = prepared.inputs;
    if (step.kind == StepKind::run) {
      inputs.args = state.args;
      inputs.env = state.config.config.env;
      inputs.id_map = m_map.single_id() ? "single id" : "ranges";
      SourceManifest bound;
      for (const auto& mount : step.mounts) {
        if (mount.get("type").value_or("bind") != "bind") {
          continue;
        }
        if (mount.from_stage) {
          inputs.from.push_back(stage_key(*mount.from_stage, step));
          continue;
        }
        // A bind mount of the context: the RUN sees those files.
        std::string source = mount.get("source").value_or("");
        Fd context = open_dir(m_options.context, step);
        auto fd = source.empty() || source == "/" || source == "."
                    ? Result<Fd>(Fd(::dup(context.get())))
                    : open_in_root(context.get(), source, O_RDONLY | O_DIRECTORY);
        if (!fd) {
          continue; // a single file or nothing: the sandbox reports it
        }
        auto walked = must(oci::walk_tree(fd->get()), where(step));
        std::vector<std::string> origins;
        for (auto& entry : walked.entries) {
          origins.push_back(source.empty() || source == "/" || source == "." ? entry.path
                                                                             : source + "/" + entry.path);
        }
        auto part = manifest_of(walked.entries, origins, step, prepared);
        bound.files.insert(bound.files.end(), part.files.begin(), part.files.end());
      }
      if (!bound.files.empty()) {
        inputs.files = bound.digest().str();
        prepared.manifest = std::move(bound);
      }
    } else if (step.kind == StepKind::copy || step.kind == StepKind::add) {
      prepared.request = copy_request(state, step);
      if (step.from_stage) {
        // Keyed by the files it copies; the alias (this parent, this
        // instruction, the stage's state) remembers their digest, so an
        // unchanged stage is not read again.
        oci::Digest alias = oci::Digest::of(fmt::format("copy-from\n{}\n{}\n{}", inputs.parent,
                                                        inputs.instruction.dump(), stage_key(*step.from_stage, step)));
        auto known = m_options.cache == CacheMode::use ? m_cache->find_alias(alias) : std::nullopt;
        if (known) {
          inputs.files = *known;
        } else {
          resolve_request(state, step, prepared.request);
          prepared.manifest = stage_manifest(step, prepared);
          inputs.files = prepared.manifest->digest().str();
          if (auto stored = m_cache->store_alias(alias, inputs.files); !stored) {
            progress(fmt::format("warning: {}: {}", where(step), stored.error()));
          }
        }
      } else if (step.from_image) {
        prepared.image = fetch_image(*step.from_image, fmt::format("{}: COPY --from", where(step)), reporter());
        inputs.from.push_back(prepared.image->descriptor.digest.str());
      } else {
        fs::path spool = m_scratch->path() / fmt::format("spool-{}", m_step_dirs++);
        fs::create_directories(spool);
        Fd context = open_dir(m_options.context, step);
        resolve_request(state, step, prepared.request);
        prepared.plan = must(plan_copy(context.get(), m_options.context, SourceKind::context,
                                       m_ignore ? &*m_ignore : nullptr, prepared.request, spool),
                             where(step));
        prepared.manifest = manifest_of(prepared.plan->entries, prepared.plan->origins, step, prepared);
        inputs.files = prepared.manifest->digest().str();
      }
    }
    return prepared;
  }

  // One step through the cache: its key, then the stored result (CACHED)
  // or a build whose result is stored.
  void cached_step(StageState& state, const Step& step, const std::string& number)
  {
    auto started = std::chrono::steady_clock::now();
    Prepared prepared = prepare(state, step);
    oci::Digest key = prepared.inputs.key();
    std::optional<CacheEntry> hit;
    if (m_options.cache == CacheMode::use) {
      hit = m_cache->find(key);
    }
    const SourceManifest* manifest = prepared.manifest ? &*prepared.manifest : nullptr;
    std::string reason = announce(hit.has_value(), state.last, short_name(step), prepared.inputs, manifest);
    std::string created;
    auto layer = run_step(state, step, prepared, hit ? &*hit : nullptr, created);
    std::optional<CacheEntry> built;
    if (!hit) {
      built.emplace();
      built->key = key;
      built->inputs = prepared.inputs;
      built->created = created;
      if (layer) {
        built->layer = layer->descriptor;
        built->diff_id = layer->diff_id;
        built->blobs = {layer->descriptor.digest};
        built->dirs = {RootfsCache::layer_dir_name(layer->diff_id)};
      }
    }
    conclude(state, key, built, manifest, reason,
             {number, step.text, where(step), prepared.files_hashed, prepared.bytes_hashed}, started);
  }

  // Prints the cache's answer for a step: "--> CACHED", or the reason for
  // the miss, which it returns ("" on a hit).
  std::string announce(bool hit, CacheOutcome parent, const std::string& name, const StepInputs& inputs,
                       const SourceManifest* manifest)
  {
    if (hit) {
      progress("--> CACHED");
      return "";
    }
    std::string reason = miss_reason(parent, name, inputs, manifest);
    progress(fmt::format("--> {}", reason));
    return reason;
  }

  struct LogLine
  {
    std::string number;   // "STAGE/STEP"
    std::string text;     // the instruction
    std::string location; // FILE:LINE
    uint64_t files_hashed = 0;
    uint64_t bytes_hashed = 0;
  };

  // After a step: a built one (`built`) is stored and its time printed;
  // every one is counted and logged, and the stage remembers how it fared.
  void conclude(StageState& state, const oci::Digest& key, const std::optional<CacheEntry>& built,
                const SourceManifest* manifest, const std::string& reason, const LogLine& line,
                std::chrono::steady_clock::time_point started)
  {
    if (built) {
      if (auto stored = m_cache->store(*built, manifest); !stored) {
        progress(fmt::format("warning: {}: not stored in the cache: {}", line.location, stored.error()));
      }
      progress_time(started);
    }
    state.last = outcome(!built, reason);
    ++m_steps;
    m_cached += built ? 0 : 1;
    log_decision(line, key, !built, reason, started);
  }

  static constexpr std::string_view k_not_cached = "not in the cache";

  std::string miss_reason(CacheOutcome parent, const std::string& name, const StepInputs& inputs,
                          const SourceManifest* manifest) const
  {
    if (m_options.cache == CacheMode::refresh) {
      return fmt::format("{}: not looked up (--no-cache)", name);
    }
    std::string why = m_cache->explain_miss(inputs, manifest);
    if (why.empty()) {
      why = parent == CacheOutcome::changed ? "parent changed" : std::string(k_not_cached);
    }
    return fmt::format("{}: {}", name, why);
  }

  static CacheOutcome outcome(bool hit, const std::string& reason)
  {
    return hit ? CacheOutcome::hit
               : reason.ends_with(k_not_cached) ? CacheOutcome::unknown : CacheOutcome::changed;
  }

  void log_decision(const LogLine& line, const oci::Digest& key, bool hit, const std::string& reason,
                    std::chrono::steady_clock::time_point started)
  {
    if (!m_options.cache_log) {
      return;
    }
    std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
    oci::Json json{{"step", line.number},
                   {"location", line.location},
                   {"instruction", line.text},
                   {"key", key.str()},
                   {"decision", hit ? "hit" : "miss"},
                   {"files_hashed", line.files_hashed},
                   {"bytes_hashed", line.bytes_hashed},
                   {"seconds", static_cast<double>(static_cast<int64_t>(elapsed.count() * 1000)) / 1000}};
    if (!hit) {
      json["reason"] = reason;
    }
    std::lock_guard lock(m_mutex);
    m_log.push_back(json.dump());
  }

  void write_cache_log() noexcept
  {
    if (!m_options.cache_log || m_log_written) {
      return;
    }
    m_log_written = true;
    try {
      std::string text;
      for (const auto& line : m_log) {
        text += line + "\n";
      }
      if (auto written = write_file_atomic(*m_options.cache_log, text, Durable::no); !written) {
        progress(fmt::format("warning: --cache-log: {}", written.error()));
      }
    } catch (...) {
    }
  }

  bool cancelled() const
  {
    struct pollfd p{m_options.cancel_fd, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
  }

  void load_ignore_file()
  {
    fs::path file;
    if (m_options.ignorefile) {
      file = *m_options.ignorefile;
    } else if (fs::exists(m_options.context / ".containerignore")) {
      file = m_options.context / ".containerignore";
    } else if (fs::exists(m_options.context / ".dockerignore")) {
      file = m_options.context / ".dockerignore";
    }
    if (!file.empty()) {
      m_ignore = must(IgnoreMatcher::load(file), "");
    }
  }

  std::string timestamp() const { return oci::image_timestamp(m_options.epoch); }

  void add_history(StageState& state, const Step& step, bool empty_layer, const std::string& created)
  {
    oci::History history;
    history.created = created;
    history.created_by = step.text;
    history.comment = "kiln";
    history.empty_layer = empty_layer;
    state.config.history.push_back(std::move(history));
  }

  // Where a base's messages go: progress, or a prefetched base's list.
  using Report = std::function<void(const std::string&)>;

  // Decides whether an external image may be used, before anything of it
  // is extracted: the trust policy when there is one, else only
  // --insecure-allow-unverified-base lets an unverified image through.
  void check_base(const std::string& text, const oci::ImageReference& reference, oci::ImageSource& source,
                  const std::string& context, const Report& report)
  {
    std::unique_lock lock(m_mutex);
    if (!m_policy_loaded) {
      m_policy = must(signer::load_configured_policy(m_options.policy), "trust policy");
      m_policy_loaded = true;
    }
    const oci::Digest& digest = source.top().digest;
    if (!m_policy) {
      if (m_options.trust == BaseTrust::insecure_allow_unverified) {
        report(fmt::format("warning: {} {}: using an unverified base (--insecure-allow-unverified-base)", context,
                           text));
        return;
      }
      throw Error(fmt::format("{} {} ({}): refused, its signature was not verified (no trust policy: see "
                              "docs/trust-policy.md); pass --insecure-allow-unverified-base to build on it anyway",
                              context, text, digest.short_str()));
    }
    signer::LayoutAttachmentSource attachments(source.layout());
    auto decision = signer::check_image(*m_policy, reference.str(), digest, attachments, std::time(nullptr));
    if (!decision.accepted()) {
      throw Error(fmt::format("{} {} ({}): refused by {} (scope \"{}\"): {}", context, text, digest.short_str(),
                              m_policy->file.string(), decision.scope, decision.reason));
    }
    report(fmt::format("{} {}: verified {} ({})", context, text, digest.short_str(), decision.reason));
  }

  // An external image after the trust check, still in its source; the
  // digest checked is the one used (the tag is never resolved again).
  struct OpenedImage
  {
    oci::ImageSource source;
    oci::Image image;
  };

  OpenedImage open_image(const std::string& text, const std::string& context, const Report& report)
  {
    auto reference = must(oci::ImageReference::parse(text), context);
    auto source = must(oci::ImageSource::open(reference), context);
    check_base(text, reference, source, context, report);
    auto image = must(oci::load_image(source.layout(), source.top(), m_options.platform), context);
    return {std::move(source), std::move(image)};
  }

  // The same, brought into the work layout.
  oci::Image fetch_image(const std::string& text, const std::string& context, const Report& report)
  {
    auto opened = open_image(text, context, report);
    must(oci::copy_blobs(opened.source.layout(), *m_work, opened.image.descriptor,
                         oci::BlobTransfer::link_when_possible),
         context);
    return std::move(opened.image);
  }

  // "Containerfile:3: FROM", for the messages of a stage's base.
  static std::string from_context(const Stage& stage)
  {
    return fmt::format("{}:{}: FROM", stage.source.file, stage.source.line);
  }

  // FROM is a cache step too: found when its chain is already extracted;
  // its parent names the reference, so a moved tag explains a miss.
  StepInputs from_inputs(const Stage& stage, const oci::Image& image) const
  {
    StepInputs inputs;
    inputs.kind = "FROM";
    inputs.platform = m_options.platform.str();
    inputs.parent = oci::Digest::of(fmt::format("FROM\n{}\n{}", stage.base.image, inputs.platform)).hex();
    inputs.instruction = oci::Json{{"manifest", image.descriptor.digest.str()}};
    inputs.location = fmt::format("{}:{}", stage.source.file, stage.source.line);
    inputs.summary = "FROM " + stage.base.image;
    return inputs;
  }

  // A stage's image base: trust-checked, its blobs in the work layout, its
  // chain extracted; `hit` when the chain and the FROM's cache entry were
  // there before.
  struct FetchedBase
  {
    oci::Image image;
    bool hit = false;
    fs::path lower;
  };

  FetchedBase fetch_base(const Stage& stage, const Report& report)
  {
    std::string context = from_context(stage);
    FetchedBase fetched;
    auto opened = open_image(stage.base.image, context, report);
    const oci::Image& image = opened.image;
    fetched.hit = m_options.cache == CacheMode::use && m_rootfs->has_chain(image.config.diff_ids) &&
                  m_cache->find(from_inputs(stage, image).key()).has_value();
    // Extracted from the source, then linked into the work layout: a layer
    // just extracted had its digest checked and is not read a third time.
    bool extracted = false;
    fetched.lower = must(m_rootfs->ensure(opened.source.layout(), image.manifest.layers, image.config.diff_ids,
                                          [&](const std::string& line) { report("warning: " + line); }, &extracted),
                         context);
    std::set<oci::Digest> checked;
    for (const auto& layer : extracted ? image.manifest.layers : std::vector<oci::Descriptor>{}) {
      checked.insert(layer.digest);
    }
    // A layer the kernel will not let this user link (another user's file)
    // stays in its source until an output or a flattening needs it.
    auto source = std::make_shared<const oci::ImageSource>(std::move(opened.source));
    auto left = must(oci::link_blobs(source->layout(), *m_work, image.descriptor, checked), context);
    if (!left.empty()) {
      std::lock_guard lock(m_external_mutex);
      for (const auto& layer : left) {
        m_external.emplace(layer.digest, source);
      }
    }
    fetched.image = std::move(opened.image);
    return fetched;
  }

  bool is_external(const oci::Digest& digest)
  {
    std::lock_guard lock(m_external_mutex);
    return m_external.contains(digest);
  }

  // Copies the layers among `layers` left in their source into `to`.
  void fetch_external(const std::vector<oci::Descriptor>& layers, const oci::Layout& to, const std::string& context)
  {
    for (const auto& layer : layers) {
      std::shared_ptr<const oci::ImageSource> source;
      {
        std::lock_guard lock(m_external_mutex);
        if (auto it = m_external.find(layer.digest); it != m_external.end()) {
          source = it->second;
        }
      }
      if (source && !to.has_blob(layer.digest)) {
        must(oci::copy_blobs(source->layout(), to, layer), context);
      }
    }
  }

  // The flattened chain of `layers`, from the rootfs cache or extracted
  // from the work layout (layers still in their source copied there first).
  fs::path flatten(const std::vector<oci::Descriptor>& layers, const std::vector<oci::Digest>& diff_ids,
                   const std::string& context)
  {
    if (!m_rootfs->has_chain(diff_ids)) {
      fetch_external(layers, *m_work, context);
    }
    return must(m_rootfs->ensure(*m_work, layers, diff_ids, warner()), context);
  }

  // The image bases of stages that do not start at once are fetched and
  // extracted ahead, while earlier stages build (see prefetch.hpp); each
  // reference once, since a later stage on the same base finds its chain.
  // The messages wait for the stage's FROM. The work starts once a first
  // stage has its base, so it does not slow that extraction down.
  struct PrefetchedBase
  {
    FetchedBase base;
    std::vector<std::string> messages;
  };

  void prefetch_bases(const std::vector<std::pair<const Stage*, size_t>>& numbered)
  {
    std::set<std::string> seen;
    size_t at_once = 0;
    for (const auto& [stage, number] : numbered) {
      bool starts_now = at_once < std::max(1u, m_options.jobs) && dependencies(*stage).empty();
      at_once += starts_now ? 1 : 0;
      if (stage->base.kind != StageBase::Kind::image || !seen.insert(stage->base.image).second || starts_now) {
        continue;
      }
      m_prefetch.add(stage->index, [this, stage = stage] {
        PrefetchedBase ahead;
        ahead.base = fetch_base(*stage, [&](const std::string& line) { ahead.messages.push_back(line); });
        return ahead;
      });
    }
  }

  StageState start_stage(const Stage& stage, size_t number, size_t total)
  {
    std::string context = from_context(stage);
    progress(fmt::format("[{}/{}] STEP 1/{}: FROM {}{}", number, total, stage.steps.size() + 1,
                         stage.base.kind == StageBase::Kind::scratch ? "scratch" : stage.base.image,
                         stage.name.empty() ? "" : " AS " + stage.name));
    StageState state;
    switch (stage.base.kind) {
    case StageBase::Kind::scratch: {
      state.base = "scratch";
      state.config.architecture = m_options.platform.architecture;
      state.config.os = m_options.platform.os;
      state.config.variant = m_options.platform.variant;
      fs::path empty = m_scratch->path() / "empty";
      must(m_rootfs->make_root_owned_dir(empty), context);
      state.lowers = {empty};
      break;
    }
    case StageBase::Kind::stage: {
      const auto& parent = m_stages.at(static_cast<size_t>(stage.base.stage));
      if (!parent) {
        throw Error(fmt::format("{}: stage {} was not built", context, stage.base.stage));
      }
      {
        std::lock_guard lock(m_rootfs_mutex); // a sibling stage may be making its lower dirs
        state = *parent;
      }
      state.args.clear();
      break;
    }
    case StageBase::Kind::image: {
      auto started = std::chrono::steady_clock::now();
      FetchedBase fetched;
      if (auto ahead = m_prefetch.take(stage.index)) {
        for (const auto& line : ahead->messages) {
          progress(line);
        }
        fetched = std::move(ahead->base);
      } else {
        fetched = fetch_base(stage, reporter());
      }
      const oci::Image& image = fetched.image;
      state.base = image.descriptor.digest.str();
      state.config = image.config;
      state.layers = image.manifest.layers;
      StepInputs inputs = from_inputs(stage, image);
      oci::Digest key = inputs.key();
      std::string chain = chain_id(state.config.diff_ids).hex();
      bool hit = fetched.hit;
      std::string reason = announce(hit, CacheOutcome::unknown, "FROM", inputs, nullptr);
      state.lowers = {fetched.lower};
      std::optional<CacheEntry> built;
      if (!hit) {
        built.emplace();
        built->key = key;
        built->inputs = inputs;
        built->blobs = {image.descriptor.digest, image.manifest.config.digest};
        for (const auto& layer : state.layers) {
          if (!is_external(layer.digest)) {
            built->blobs.push_back(layer.digest);
          }
        }
        built->dirs = {chain};
      }
      conclude(state, key, built, nullptr, reason, {fmt::format("{}/1", number), inputs.summary, inputs.location},
               started);
      state.annotations[std::string(oci::k_annotation_base_name)] = stage.base.image;
      state.annotations[std::string(oci::k_annotation_base_digest)] = image.descriptor.digest.str();
      // Triggers run in this stage and are not passed on (Docker).
      state.triggers = std::move(state.config.config.on_build);
      state.config.config.on_build.clear();
      break;
    }
    }
    return state;
  }

  // The base's ONBUILD triggers as steps of this stage: parsed as lines
  // after a FROM of the same base, so they expand in its scope.
  std::vector<Step> onbuild_steps(const Stage& stage, const std::vector<std::string>& triggers) const
  {
    if (triggers.empty()) {
      return {};
    }
    std::string text = fmt::format("FROM {}\n", stage.base.image);
    for (const auto& trigger : triggers) {
      text += trigger + "\n";
    }
    ParseOptions options = m_parse_options;
    options.file = fmt::format("{}:{} (ONBUILD of {})", stage.source.file, stage.source.line, stage.base.image);
    options.target.reset();
    Build triggered = parse(text, options);
    std::vector<Step> steps = std::move(triggered.stages.at(0).steps);
    for (const auto& step : steps) {
      if (step.from_stage || step.kind == StepKind::onbuild) {
        throw Error(fmt::format("{}: ONBUILD {}: {} cannot run as a trigger here", options.file, step.text,
                                step.from_stage ? "--from a stage" : "ONBUILD"));
      }
    }
    return steps;
  }

  std::function<void(const std::string&)> warner() const
  {
    return [this](const std::string& line) { progress(fmt::format("warning: {}", line)); };
  }

  Report reporter() const
  {
    return [this](const std::string& line) { progress(line); };
  }

  // Applies the step: its config changes always (they are cheap and
  // deterministic), its layer from the cache entry `hit` or built anew.
  // Returns the layer, and the history time in `created`.
  std::optional<WrittenLayer> run_step(StageState& state, const Step& step, Prepared& prepared, const CacheEntry* hit,
                                       std::string& created)
  {
    auto& c = state.config.config;
    std::optional<Produced> produced;
    switch (step.kind) {
    case StepKind::env:
      for (const auto& pair : step.pairs) {
        c.set_env(pair.key, pair.value.value_or(""));
      }
      break;
    case StepKind::arg:
      for (const auto& pair : step.pairs) {
        std::erase_if(state.args, [&](const auto& a) { return a.first == pair.key; });
        if (pair.value) {
          state.args.emplace_back(pair.key, *pair.value);
        }
      }
      break;
    case StepKind::label:
      for (const auto& pair : step.pairs) {
        c.labels[pair.key] = pair.value.value_or("");
      }
      break;
    case StepKind::user:
      c.user = step.args.at(0);
      break;
    case StepKind::expose:
      c.exposed_ports.insert(step.args.begin(), step.args.end());
      break;
    case StepKind::volume:
      c.volumes.insert(step.args.begin(), step.args.end());
      break;
    case StepKind::stopsignal:
      c.stop_signal = step.args.at(0);
      break;
    case StepKind::shell:
      c.shell = step.args;
      break;
    case StepKind::onbuild:
      c.on_build.push_back(step.args.at(0));
      break;
    case StepKind::entrypoint:
      c.entrypoint = command_vector(state, step);
      if (step.resets_cmd) {
        c.cmd.reset();
      }
      break;
    case StepKind::cmd:
      c.cmd = command_vector(state, step);
      break;
    case StepKind::healthcheck:
      c.healthcheck = healthcheck(state, step);
      break;
    case StepKind::workdir:
      c.working_dir = absolute_workdir(state, step.args.at(0));
      produced = hit != nullptr ? reuse(*hit, step) : workdir_layer(state, step);
      break;
    case StepKind::copy:
    case StepKind::add:
      produced = hit != nullptr ? reuse(*hit, step) : copy_layer(state, step, prepared);
      break;
    case StepKind::run:
      produced = hit != nullptr ? reuse(*hit, step) : sandbox_layer(state, step);
      break;
    }
    created = hit != nullptr ? hit->created : timestamp();
    if (produced) {
      push_layer(state, *produced);
    }
    add_history(state, step, !produced, created);
    return produced ? std::optional(produced->layer) : std::nullopt;
  }

  // A cached step's layer, and its lower directory when an earlier build's
  // is still there (else it is made when needed: see materialise).
  std::optional<Produced> reuse(const CacheEntry& entry, const Step& step)
  {
    if (!entry.layer || !entry.diff_id) {
      return std::nullopt;
    }
    WrittenLayer layer{*entry.layer, *entry.diff_id};
    return Produced{layer, m_rootfs->find_layer_dir(layer.diff_id).value_or(fs::path()), step.kind == StepKind::run};
  }

  std::vector<std::string> shell_of(const StageState& state) const
  {
    return state.config.config.shell.value_or(std::vector<std::string>{"/bin/sh", "-c"});
  }

  std::vector<std::string> command_vector(const StageState& state, const Step& step) const
  {
    if (step.form == Form::exec) {
      return step.args;
    }
    auto argv = shell_of(state);
    argv.push_back(step.args.empty() ? std::string() : step.args.front());
    return argv;
  }

  oci::Json healthcheck(const StageState& state, const Step& step) const
  {
    if (step.args.size() == 1 && step.args[0] == "NONE") {
      return oci::Json{{"Test", {"NONE"}}};
    }
    oci::Json check = oci::Json::object();
    std::vector<std::string> test;
    if (step.form == Form::exec) {
      test = {"CMD"};
      test.insert(test.end(), step.args.begin(), step.args.end());
    } else {
      test = {"CMD-SHELL", step.args.empty() ? std::string() : step.args.front()};
    }
    (void)state;
    check["Test"] = test;
    for (auto [flag, key] : {std::pair{"interval", "Interval"}, {"timeout", "Timeout"},
                             {"start-period", "StartPeriod"}, {"start-interval", "StartInterval"}}) {
      if (auto value = step.flag(flag)) {
        auto ns = parse_go_duration(*value);
        if (!ns) {
          throw Error(fmt::format("{}: HEALTHCHECK --{}: \"{}\" is not a duration (e.g. 30s, 1m30s)", where(step),
                                  flag, *value));
        }
        check[key] = *ns;
      }
    }
    if (auto retries = step.flag("retries")) {
      auto value = parse_u64(*retries);
      if (!value) {
        throw Error(fmt::format("{}: HEALTHCHECK --retries: \"{}\" is not a number", where(step), *retries));
      }
      check["Retries"] = *value;
    }
    return check;
  }

  std::string absolute_workdir(const StageState& state, std::string_view path) const
  {
    return join_path(state.config.config.working_dir, path);
  }

  // The directories WORKDIR names that do not exist yet, as a layer.
  std::optional<Produced> workdir_layer(StageState& state, const Step& step)
  {
    const std::string& dir = state.config.config.working_dir;
    if (look_up(state, dir, false).exists) {
      return std::nullopt;
    }
    // A missing WORKDIR (and its missing parents) is created owned by the
    // active USER, as BuildKit does (moby/buildkit#1002).
    uint32_t uid = 0;
    uint32_t gid = 0;
    if (!state.config.config.user.empty()) {
      auto user = resolve_user(state.config.config.user, look_up(state, "etc/passwd", true).content,
                               look_up(state, "etc/group", true).content);
      if (!user) {
        throw Error(fmt::format("{}: WORKDIR: USER {}: {}", where(step), state.config.config.user, user.error()));
      }
      uid = user->uid;
      gid = user->gid;
    }
    std::vector<oci::LayerEntry> entries;
    std::string path;
    for (auto part : split(dir, '/')) {
      if (part.empty()) {
        continue;
      }
      path += path.empty() ? std::string(part) : "/" + std::string(part);
      if (look_up(state, path, false).exists) {
        continue;
      }
      oci::LayerEntry entry;
      entry.path = path;
      entry.type = oci::EntryType::directory;
      entry.mode = 0755;
      entry.uid = uid;
      entry.gid = gid;
      entry.mtime = m_options.epoch.value_or(static_cast<int64_t>(std::time(nullptr)));
      entries.push_back(std::move(entry));
    }
    auto layer = write_here(std::move(entries), step);
    return Produced{layer, {}};
  }

  std::optional<std::pair<uint32_t, uint32_t>> chown_of(StageState& state, const Step& step)
  {
    auto spec = step.flag("chown");
    if (!spec || spec->empty()) {
      return std::nullopt;
    }
    std::string passwd = look_up(state, "etc/passwd", true).content;
    std::string group = look_up(state, "etc/group", true).content;
    auto user = resolve_user(*spec, passwd, group);
    if (!user) {
      throw Error(fmt::format("{}: {} --chown={}: {}", where(step), step.instruction, *spec, user.error()));
    }
    return std::pair{user->uid, user->gid};
  }

  fs::path stage_rootfs(int index, const Step& step)
  {
    auto& source = m_stages.at(static_cast<size_t>(index));
    if (!source) {
      throw Error(fmt::format("{}: COPY --from: stage {} was not built", where(step), index));
    }
    std::lock_guard lock(m_rootfs_mutex);
    if (!source->flattened) {
      source->flattened = flatten(source->layers, source->config.diff_ids, where(step));
    }
    return *source->flattened;
  }

  // A stage's files for COPY --from, without flattening the stage: its lower
  // dirs merged read-only by overlayfs in a mount namespace of the child
  // (whiteouts and opaque dirs honoured, as in the stage's RUN steps). The
  // paths are named here, from an anchor above them (see PathAnchor); the
  // child mounts.
  struct OverlayView
  {
    PathAnchor anchor;
    std::vector<fs::path> lowers; // bottom first, relative to the anchor
    fs::path mount_point;

    static Result<OverlayView> name(const std::vector<fs::path>& lowers, const fs::path& mount_point)
    {
      std::vector<fs::path> paths = lowers;
      paths.push_back(mount_point);
      auto anchor = PathAnchor::open(paths);
      if (!anchor) {
        return fail(anchor.error());
      }
      OverlayView view{std::move(*anchor), {}, {}};
      for (const auto& lower : lowers) {
        view.lowers.push_back(view.anchor(lower));
      }
      view.mount_point = view.anchor(mount_point);
      return view;
    }

    // In the child: the view, mounted and open.
    Result<Fd> mount() const
    {
      if (auto entered = anchor.enter(); !entered) {
        return fail(entered.error());
      }
      std::string lowerdir;
      for (auto it = lowers.rbegin(); it != lowers.rend(); ++it) {
        lowerdir += (lowerdir.empty() ? "" : ":") + it->string();
      }
      std::string options = fmt::format("lowerdir={},userxattr", lowerdir);
      if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        return fail(fmt::format("mount namespace for the overlay view: {}", errno_text(errno)));
      }
      if (::mount("overlay", mount_point.c_str(), "overlay", MS_RDONLY, options.c_str()) != 0) {
        return fail(fmt::format("mount the overlay view of {} layers: {}", lowers.size(), errno_text(errno)));
      }
      Fd fd(::open(mount_point.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!fd) {
        return fail(fmt::format("open the overlay view: {}", errno_text(errno)));
      }
      return fd;
    }
  };

  // Whether the kernel lets this user mount the view (asked once per build;
  // the mount options must also fit in a page).
  bool overlay_view_works(const std::vector<fs::path>& lowers)
  {
    size_t length = 32;
    for (const auto& lower : lowers) {
      length += lower.string().size() + 1;
    }
    if (length > 3500) {
      return false;
    }
    std::lock_guard lock(m_rootfs_mutex);
    if (!m_overlay_view) {
      fs::path probe = m_scratch->path() / "view-probe";
      auto view = OverlayView::name(lowers, probe);
      m_overlay_view = view && m_rootfs->make_root_owned_dir(probe) &&
                       run_in_namespace(m_map, [&]() -> Result<void> {
                         auto fd = view->mount();
                         return fd ? Result<void>() : fail(fd.error());
                       });
    }
    return *m_overlay_view;
  }

  CopyRequest copy_request(StageState& state, const Step& step)
  {
    if (step.args.size() < 2) {
      throw Error(fmt::format("{}: {} needs a source and a destination", where(step), step.instruction));
    }
    CopyRequest request;
    request.sources.assign(step.args.begin(), step.args.end() - 1);
    request.destination = absolute_workdir(state, step.args.back());
    if (step.args.back().ends_with('/')) {
      request.destination += '/';
    }
    if (auto mode = step.flag("chmod")) {
      request.chmod = parse_octal_mode(*mode);
      if (!request.chmod) {
        throw Error(fmt::format("{}: {} --chmod={}: expected an octal mode such as 0755", where(step),
                                step.instruction, *mode));
      }
    }
    for (const auto& flag : step.flags) {
      if (flag.name == "exclude") {
        request.excludes.push_back(flag.value);
      }
    }
    request.extract_archives = step.kind == StepKind::add && !step.from_stage && !step.from_image;
    request.parents = step.flag("parents").value_or("false") == "true";
    return request;
  }

  // What a COPY plan needs from the stage's filesystem, looked up only when
  // a plan is made (a cached step makes none): whether DEST is a directory,
  // which matters for one source into a DEST without a trailing "/", and
  // --chown's names through /etc/passwd and /etc/group.
  void resolve_request(StageState& state, const Step& step, CopyRequest& request)
  {
    bool matters = !request.destination.ends_with('/') && request.sources.size() == 1 && !request.parents;
    request.destination_is_dir = matters && look_up(state, request.destination, false).directory;
    request.chown = chown_of(state, step);
  }

  // COPY/ADD's layer: from the context plan made for the key, or read from
  // another stage or image inside the user namespace.
  Produced copy_layer(StageState& state, const Step& step, Prepared& prepared)
  {
    const CopyRequest& request = prepared.request;
    WrittenLayer layer;
    if (prepared.plan) {
      layer = write_here(std::move(prepared.plan->entries), step);
    } else {
      if (!prepared.manifest) {
        resolve_request(state, step, prepared.request); // not done for the key
      }
      SourceFiles files = source_files(step, prepared);
      layer = write_in_namespace(step, [&](oci::Sink& sink, const oci::LayerWriteOptions& options,
                                           MemberList& members) -> Result<oci::LayerResult> {
        auto plan = plan_in(files, request);
        if (!plan) {
          return fail(plan.error());
        }
        members = member_list(plan->entries);
        return oci::write_layer(std::move(plan->entries), {}, options, sink);
      });
    }
    return Produced{layer, {}};
  }

  // Where COPY --from reads: a stage's lower dirs merged by an overlay view
  // (mounted in the child), or a flattened chain (a stage's or an image's).
  struct SourceFiles
  {
    fs::path root;
    std::optional<OverlayView> view;
    Fd root_fd; // opened here, before the user namespace, when not a view
  };

  SourceFiles source_files(const Step& step, const Prepared& prepared)
  {
    SourceFiles files;
    if (step.from_stage) {
      const auto& source = m_stages.at(static_cast<size_t>(*step.from_stage));
      bool flattened = false;
      std::vector<fs::path> lowers;
      {
        // The source stage is finished; other stages may read it at once.
        std::lock_guard lock(m_rootfs_mutex);
        flattened = source && source->flattened;
        if (source && !flattened) {
          materialise(*m_stages.at(static_cast<size_t>(*step.from_stage)));
          lowers = source->lowers;
        }
      }
      if (source && !flattened && lowers.size() > 1 && overlay_view_works(lowers)) {
        files.root = m_scratch->path() / fmt::format("view-{}", m_step_dirs++);
        must(m_rootfs->make_root_owned_dir(files.root), where(step));
        files.view = must(OverlayView::name(lowers, files.root), where(step));
      } else {
        files.root = stage_rootfs(*step.from_stage, step);
      }
    } else {
      const oci::Image& image = *prepared.image;
      files.root = must(m_rootfs->ensure(*m_work, image.manifest.layers, image.config.diff_ids, warner()), where(step));
    }
    if (!files.view) {
      files.root_fd = open_dir(files.root, step);
    }
    return files;
  }

  // In the user namespace child (files keep their container owners): the
  // COPY plan over the source files, mounting the overlay view first.
  Result<CopyPlan> plan_in(SourceFiles& files, const CopyRequest& request) const
  {
    if (files.view) {
      auto mounted = files.view->mount();
      if (!mounted) {
        return fail(mounted.error());
      }
      files.root_fd = std::move(*mounted);
    }
    return plan_copy(files.root_fd.get(), files.root, SourceKind::filesystem, nullptr, request, m_scratch->path());
  }

  // COPY --from=STAGE's source manifest, made in the user namespace: what
  // the step would copy, contents by digest. A stage rebuilt with the same
  // files at those paths then gives the same key (as buildah and BuildKit
  // key by content), so a later step need not copy a venv again because an
  // unrelated file of the stage changed.
  SourceManifest stage_manifest(const Step& step, const Prepared& prepared)
  {
    SourceFiles files = source_files(step, prepared);
    oci::StringSink text;
    must(stream_from_user_namespace(
           m_map,
           [&](oci::Sink& sink) -> Result<std::string> {
             auto plan = plan_in(files, prepared.request);
             if (!plan) {
               return fail(plan.error());
             }
             std::map<std::pair<uint64_t, uint64_t>, std::string> linked;
             for (size_t i = 0; i < plan->entries.size(); ++i) {
               const auto& entry = plan->entries[i];
               std::string content;
               if (entry.type == oci::EntryType::regular) {
                 content = hardlink_mark(entry, linked);
                 if (content.empty()) {
                   auto fd = open_entry(entry);
                   auto digest = fd ? oci::digest_of_fd(fd->get()) : Result<oci::Digest>(fail(fd.error()));
                   if (!digest) {
                     return fail(fmt::format("\"{}\": {}", plan->origins[i], digest.error()));
                   }
                   content = digest->str();
                 }
               }
               std::string line = fmt::format("{} {}\n", entry_record(entry, content).hex(), plan->origins[i]);
               if (auto written = sink.write(line.data(), line.size()); !written) {
                 return fail(written.error());
               }
             }
             return std::string("ok");
           },
           text),
         where(step));
    SourceManifest manifest = SourceManifest::parse(text.data());
    std::sort(manifest.files.begin(), manifest.files.end());
    return manifest;
  }

  // Directories are opened here, before any user namespace: see rootfs.cpp.
  static Fd open_dir(const fs::path& dir, const Step& step)
  {
    Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) {
      throw Error(fmt::format("{}: open \"{}\": {}", where(step), dir.string(), errno_text(errno)));
    }
    return fd;
  }

  oci::LayerWriteOptions layer_options() const
  {
    oci::LayerWriteOptions options;
    options.compression = m_options.compression;
    options.source_date_epoch = m_options.epoch;
    return options;
  }

  WrittenLayer write_here(std::vector<oci::LayerEntry> entries, const Step& step)
  {
    MemberList members = member_list(entries);
    auto blob = must(m_work->new_blob(), where(step));
    auto written = must(oci::write_layer(std::move(entries), {}, layer_options(), blob), where(step));
    WrittenLayer layer{must(blob.commit(written.media_type), where(step)), written.diff_id};
    remember_members(layer, members);
    return layer;
  }

  // A layer's entries as its member index needs them (path, tar type): a
  // layer kiln writes is indexed as it is written, so a later lookup in it
  // (see look_up) need not read the blob back.
  using MemberList = std::vector<std::pair<std::string, char>>;

  static MemberList member_list(const std::vector<oci::LayerEntry>& entries)
  {
    MemberList members;
    members.reserve(entries.size());
    for (const auto& entry : entries) {
      members.emplace_back(entry.path, oci::type_flag(entry.type));
    }
    return members;
  }

  void remember_members(const WrittenLayer& layer, const MemberList& members)
  {
    auto index = std::make_shared<MemberIndex>();
    for (const auto& [path, type] : members) {
      oci::LayerMember member;
      member.path = path;
      member.type = type;
      (*index)[oci::clean_member_path(path)] = std::move(member);
    }
    std::lock_guard lock(m_index_mutex);
    auto& slot = m_indexes[layer.diff_id.str()];
    if (!slot) {
      slot = std::move(index);
    }
  }

  // Fills `members` when it knows them (a COPY's plan); a RUN's layer gets
  // a lower directory instead.
  using LayerProducer =
    std::function<Result<oci::LayerResult>(oci::Sink&, const oci::LayerWriteOptions&, MemberList& members)>;

  // Writes a layer inside the user namespace (where files show their
  // container owners); its bytes stream back into the work layout, and
  // the result and the member list come back as "DIFF_ID DIGEST TYPE",
  // then "\0" and a type character and path per member.
  // nullopt: the layer holds no entry.
  std::optional<WrittenLayer> write_in_namespace_maybe(const Step& step, const LayerProducer& produce)
  {
    auto blob = must(m_work->new_blob(), where(step));
    auto options = layer_options();
    auto result = stream_from_user_namespace(
      m_map,
      [&](oci::Sink& sink) -> Result<std::string> {
        MemberList members;
        auto written = produce(sink, options, members);
        if (!written) {
          return fail(written.error());
        }
        if (written->entries == 0) {
          return std::string("empty");
        }
        std::string text =
          fmt::format("{} {} {}", written->diff_id.str(), written->digest.str(), written->media_type);
        for (const auto& [path, type] : members) {
          text += '\0';
          text += type;
          text += path;
        }
        return text;
      },
      blob);
    std::string text = must(std::move(result), where(step));
    if (text == "empty") {
      return std::nullopt;
    }
    auto records = split(text, '\0');
    auto parts = split(records.at(0), ' ');
    if (parts.size() != 3) {
      throw Error(fmt::format("{}: layer writer answered \"{}\"", where(step), records.at(0)));
    }
    auto digest = must(oci::Digest::parse(parts[1]), where(step));
    oci::Descriptor descriptor = must(blob.commit(parts[2], digest), where(step));
    WrittenLayer layer{descriptor, must(oci::Digest::parse(parts[0]), where(step))};
    MemberList members;
    for (size_t i = 1; i < records.size(); ++i) {
      if (!records[i].empty()) {
        members.emplace_back(records[i].substr(1), records[i][0]);
      }
    }
    if (!members.empty()) {
      remember_members(layer, members);
    }
    return layer;
  }

  WrittenLayer write_in_namespace(const Step& step, const LayerProducer& produce)
  {
    auto layer = write_in_namespace_maybe(step, produce);
    if (!layer) {
      // An empty COPY still records a layer, as Docker does.
      return write_here({}, step);
    }
    return *layer;
  }

  // Makes a layer part of the stage: in the image, and (now or when a
  // later step needs the files) a lower dir for the steps after it.
  void push_layer(StageState& state, const Produced& produced)
  {
    state.layers.push_back(produced.layer.descriptor);
    state.config.diff_ids.push_back(produced.layer.diff_id);
    state.flattened.reset();
    if (state.pending.empty() && !produced.lower.empty()) {
      state.lowers.push_back(produced.lower);
    } else {
      state.pending.push_back({produced.layer, produced.lower, produced.whiteouts});
    }
  }

  // Makes the directories of a stage's pending layers, in order: an earlier
  // build's when there, a layer without deletions applied alone (kept in the
  // rootfs cache for later builds); at a RUN layer whose directory is gone,
  // the whole chain is flattened instead.
  void materialise(StageState& state)
  {
    for (const auto& pending : state.pending) {
      auto dir = !pending.dir.empty() ? std::optional(pending.dir) : m_rootfs->find_layer_dir(pending.layer.diff_id);
      if (dir) {
        state.lowers.push_back(*dir);
      } else if (!pending.whiteouts) {
        state.lowers.push_back(must(
          m_rootfs->ensure_layer_dir(*m_work, pending.layer.descriptor, pending.layer.diff_id, warner()),
          "lower directory"));
      } else {
        state.lowers = {flatten(state.layers, state.config.diff_ids, "flatten")};
        break;
      }
    }
    state.pending.clear();
  }

  using MemberIndex = std::map<std::string, oci::LayerMember>;

  // The members of a pending layer by cleaned path, read once per build.
  std::shared_ptr<const MemberIndex> members_of(const WrittenLayer& layer)
  {
    std::lock_guard lock(m_index_mutex);
    auto& slot = m_indexes[layer.diff_id.str()];
    if (!slot) {
      auto members = must(oci::list_layer_members(*m_work, layer.descriptor), "read layer");
      auto index = std::make_shared<MemberIndex>();
      for (auto& member : members) {
        std::string path = oci::clean_member_path(member.path);
        (*index)[path] = std::move(member);
      }
      slot = std::move(index);
    }
    return slot;
  }

  // Whether a layer could change what `path` resolves to without listing
  // it: a whiteout of it or an ancestor, an opaque ancestor, or an
  // ancestor of any kind (a symlink redirects; a directory may be merged
  // over a lower symlink).
  static bool redirects(const MemberIndex& members, const std::string& path)
  {
    auto whiteout_of = [](const std::string& p) {
      size_t slash = p.rfind('/');
      return slash == std::string::npos ? ".wh." + p : p.substr(0, slash + 1) + ".wh." + p.substr(slash + 1);
    };
    if (members.contains(whiteout_of(path)) || members.contains(".wh..wh..opq")) {
      return true;
    }
    for (size_t slash = path.rfind('/'); slash != std::string::npos; slash = path.rfind('/', slash - 1)) {
      std::string ancestor = path.substr(0, slash);
      if (members.contains(ancestor) || members.contains(whiteout_of(ancestor)) ||
          members.contains(ancestor + "/.wh..wh..opq")) {
        return true;
      }
      if (slash == 0) {
        break;
      }
    }
    return false;
  }

  // A path in the stage's filesystem (WORKDIR, COPY's destination,
  // /etc/passwd for --chown and USER). A pending layer answers when it
  // lists the path itself as a file or directory and no layer above it
  // could redirect the path; when one could, the pending layers'
  // directories are made and the path is looked up on disk; when none
  // names the path or its ancestors, the directories made so far answer.
  StackLookup look_up(StageState& state, const std::string& raw, bool read)
  {
    std::string path = oci::clean_member_path(raw);
    for (auto it = state.pending.rbegin(); it != state.pending.rend() && !path.empty(); ++it) {
      auto members = members_of(it->layer);
      auto found = members->find(path);
      if (found != members->end() && (found->second.type == '5' || found->second.type == '0')) {
        StackLookup result{true, found->second.type == '5', {}};
        if (read && found->second.type == '0') {
          result.content =
            must(oci::read_layer_file(*m_work, it->layer.descriptor, path), "read layer").value_or("");
        }
        return result;
      }
      if (found != members->end() || redirects(*members, path)) {
        materialise(state);
        break;
      }
    }
    // No pending layer names the path or its ancestors: the directories
    // already made answer for it.
    return look_up_on_disk(state.lowers, path, read);
  }

  std::vector<SandboxMount> run_mounts(const StageState& state, const Step& step)
  {
    std::vector<SandboxMount> mounts;
    for (const auto& mount : step.mounts) {
      std::string type = mount.get("type").value_or("bind");
      std::string target = mount.get("target").value_or("");
      if (type == "secret") {
        std::string id = mount.get("id").value_or(target.empty() ? "" : fs::path(target).filename().string());
        const BuildSecret* secret = nullptr;
        for (const auto& s : m_options.secrets) {
          if (s.id == id) {
            secret = &s;
          }
        }
        if (secret == nullptr) {
          if (mount.get("required").value_or("false") == "true") {
            throw Error(fmt::format("{}: RUN --mount=type=secret,id={}: no --secret id={} given", where(step), id,
                                    id));
          }
          continue;
        }
        SecretMount m;
        m.id = id;
        m.source = secret->source;
        m.target = target.empty() ? "/run/secrets/" + id : target;
        mounts.emplace_back(m);
      } else if (type == "cache") {
        if (target.empty()) {
          throw Error(fmt::format("{}: RUN --mount=type=cache needs a target", where(step)));
        }
        std::string id = mount.get("id").value_or(target);
        CacheMount m;
        m.source = m_options.cache_dir / "run-cache" / oci::Digest::of(id).hex().substr(0, 32);
        m.target = absolute_workdir(state, target);
        mounts.emplace_back(m);
      } else if (type == "tmpfs") {
        TmpfsMount m;
        m.target = absolute_workdir(state, target);
        mounts.emplace_back(m);
      } else if (type == "bind") {
        BindMount m;
        std::string source = mount.get("source").value_or("/");
        fs::path root = mount.from_stage ? stage_rootfs(*mount.from_stage, step) : m_options.context;
        // Resolved here, inside its root as a COPY source is: ".." and
        // symlinks never lead out of the context or the stage's files.
        // The sandbox mounts the path this resolved to, which holds no
        // symlink and no "..".
        Fd root_fd = open_dir(root, step);
        auto fd = open_in_root(root_fd.get(), source, O_PATH);
        std::error_code ec;
        fs::path resolved = fd ? fs::read_symlink(fd_path(fd->get()), ec) : fs::path();
        if (!fd || ec) {
          throw Error(fmt::format("{}: RUN --mount=type=bind,source={}: {} (sources resolve inside {})",
                                  where(step), source, fd ? ec.message() : fd.error(),
                                  mount.from_stage ? "the stage's files" : "the context"));
        }
        m.source = resolved;
        m.target = absolute_workdir(state, target);
        m.access = mount.get("readwrite").value_or("false") == "true" ? Access::read_write : Access::read_only;
        mounts.emplace_back(m);
      } else {
        throw Error(fmt::format("{}: RUN --mount=type={}: unknown mount type", where(step), type));
      }
    }
    return mounts;
  }

  std::optional<Produced> sandbox_layer(StageState& state, const Step& step)
  {
    Command command;
    if (step.form == Form::exec) {
      command = Command::exec_form(step.args);
    } else {
      // Heredocs go to the shell as written: it feeds them to the command.
      std::string script = step.args.empty() ? std::string() : step.args.front();
      for (const auto& heredoc : step.heredocs) {
        script += "\n" + heredoc.content + heredoc.name;
      }
      command = Command::shell_form(script, shell_of(state));
    }
    Environment env;
    env.entries = state.config.config.env;
    for (const auto& [key, value] : state.args) {
      if (!state.config.config.env_value(key)) {
        env.entries.push_back(fmt::format("{}={}", key, value));
      }
    }
    RunOptions options;
    options.workdir = state.config.config.working_dir.empty() ? "/" : state.config.config.working_dir;
    std::string network = step.flag("network").value_or(m_options.network == Network::host ? "host" : "none");
    if (network != "none" && network != "host" && network != "default") {
      throw Error(fmt::format("{}: RUN --network={}: kiln offers none and host", where(step), network));
    }
    options.network = network == "host" ? Network::host : Network::none;
    options.scratch_dir = m_scratch->path();
    std::optional<LabelledOutput> labelled;
    options.output = m_options.output;
    if (!t_stage_label.empty() && m_options.output) {
      labelled.emplace(t_stage_label, m_options.output);
      options.output = [&labelled](OutputStream stream, std::string_view chunk) { labelled->feed(stream, chunk); };
    }
    options.notice = [this](std::string_view line) { progress(line); };
    options.cancel_fd = m_options.cancel_fd;
    materialise(state); // RUN sees the whole filesystem
    RootfsLayers layers{state.lowers};
    auto mounts = run_mounts(state, step);
    auto ran = builder::run(layers, command, env, User{state.config.config.user}, mounts, options);
    if (labelled) {
      labelled->flush();
    }
    auto result = must(std::move(ran), where(step));
    if (!result.status.success()) {
      std::string tail;
      for (const auto& line : result.last_lines) {
        tail += "\n  " + line;
      }
      throw Error(fmt::format("{}: {}: {}{}", where(step), step.text, result.status.describe(), tail),
                  result.status.cancelled ? 130 : 1);
    }
    fs::path upper = result.upper.path();
    Fd upper_fd = open_dir(upper, step);
    std::vector<Fd> lower_fds;
    for (const auto& lower : state.lowers) {
      lower_fds.push_back(open_dir(lower, step));
    }
    // The upper dir streams into the layer writer in layer order (memory
    // does not grow with the number of files).
    auto layer = write_in_namespace_maybe(step, [&](oci::Sink& sink, const oci::LayerWriteOptions& options, MemberList&) {
      return oci::write_layer_ordered(upper_layer_items(upper_fd.get(), lower_fds), options, sink);
    });
    if (!layer) {
      return std::nullopt; // the upper dir goes with the scratch directory
    }
    // The upper dir becomes the layer's lower dir, for the steps after it
    // and for later builds.
    fs::path lower = must(m_rootfs->adopt_layer_dir(upper, layer->diff_id), where(step));
    result.upper.release();
    return Produced{*layer, lower};
  }

  BuildResult write_output(StageState& state)
  {
    // Without a fixed epoch the image is as new as its newest step, so a
    // build found wholly in the cache gives the same image again.
    state.config.created = m_options.epoch || state.config.history.empty() ? timestamp()
                                                                            : state.config.history.back().created;
    auto manifest = must(oci::write_image(*m_work, state.config, state.layers, state.annotations), "write image");
    for (const auto& reference : m_options.destinations) {
      std::string context = fmt::format("write \"{}\"", reference.str());
      auto destination = must(oci::ImageDestination::open(reference), context);
      fetch_external(state.layers, destination.layout(), context);
      must(oci::copy_blobs(*m_work, destination.layout(), manifest), context);
      must(destination.commit(manifest), context);
    }
    return {manifest};
  }

  const BuildOptions& m_options;
  IdMap m_map;
  std::unique_ptr<TempDir> m_scratch;
  std::optional<oci::Layout> m_work;
  std::optional<RootfsCache> m_rootfs;
  std::optional<IgnoreMatcher> m_ignore;
  std::vector<std::optional<StageState>> m_stages;
  std::atomic<size_t> m_step_dirs = 0;
  std::optional<bool> m_overlay_view;
  std::optional<BuildCache> m_cache;
  std::mutex m_index_mutex;
  std::map<std::string, std::shared_ptr<const std::map<std::string, oci::LayerMember>>> m_indexes;
  ParseOptions m_parse_options;
  StatCache m_stat;
  std::vector<std::string> m_log; // --cache-log lines
  bool m_log_written = false;
  std::atomic<size_t> m_steps = 0;
  std::atomic<size_t> m_cached = 0;
  // With --jobs, stages run on threads: m_mutex guards the log, the policy
  // and m_stages' slots; m_stat_mutex the stat cache; m_rootfs_mutex what
  // later stages change in a finished one (its flattened rootfs, its
  // pending lower dirs) and the overlay probe. None is taken in a forked
  // child.
  std::mutex m_mutex;
  std::mutex m_stat_mutex;
  std::mutex m_rootfs_mutex;
  // Base layers not in the work layout (see fetch_base), with their source.
  std::mutex m_external_mutex;
  std::map<oci::Digest, std::shared_ptr<const oci::ImageSource>> m_external;
  std::optional<signer::Policy> m_policy;
  bool m_policy_loaded = false;
  Prefetcher<PrefetchedBase> m_prefetch; // last: stopped before the rest goes
};

} // namespace

BuildResult build(const BuildOptions& options)
{
  Engine engine(options);
  return engine.run();
}

} // namespace kiln::builder
