#include "oci/descriptor.hpp"

#include <sys/utsname.h>

#include <fmt/core.h>

#include "base/strings.hpp"

namespace kiln::oci {

namespace {

std::string go_architecture(std::string_view machine)
{
  if (machine == "x86_64") {
    return "amd64";
  }
  if (machine == "aarch64") {
    return "arm64";
  }
  if (machine.starts_with("arm")) {
    return "arm";
  }
  if (machine == "i686" || machine == "i386") {
    return "386";
  }
  return std::string(machine);
}

} // namespace

std::string Platform::str() const
{
  std::string text = fmt::format("{}/{}", os, architecture);
  if (!variant.empty()) {
    text += "/" + variant;
  }
  return text;
}

Result<Platform> Platform::parse(std::string_view text)
{
  auto parts = split(text, '/');
  if (parts.size() < 2 || parts.size() > 3 || parts[0].empty() || parts[1].empty()) {
    return fail(fmt::format("invalid platform \"{}\": expected OS/ARCH[/VARIANT], e.g. linux/amd64", text));
  }
  Platform platform;
  platform.os = parts[0];
  platform.architecture = parts[1];
  if (parts.size() == 3) {
    platform.variant = parts[2];
  }
  return platform;
}

Platform Platform::host()
{
  struct utsname name;
  Platform platform;
  platform.os = "linux";
  platform.architecture = ::uname(&name) == 0 ? go_architecture(name.machine) : "amd64";
  if (platform.architecture == "arm64") {
    platform.variant = "v8";
  }
  return platform;
}

bool Platform::matches(const Platform& wanted) const
{
  if (os != wanted.os || architecture != wanted.architecture) {
    return false;
  }
  // arm64 images often omit the (implied) v8 variant.
  return wanted.variant.empty() || variant.empty() || variant == wanted.variant;
}

Platform Platform::from_json(Json value, std::string_view where)
{
  if (!value.is_object()) {
    throw JsonShapeError(fmt::format("{} must be an object", where));
  }
  Platform platform;
  platform.architecture = take_string(value, "architecture", where);
  platform.os = take_string(value, "os", where);
  platform.variant = take_string(value, "variant", where);
  platform.os_version = take_string(value, "os.version", where);
  Json features = take(value, "os.features");
  if (features.is_array()) {
    for (auto& f : features) {
      if (f.is_string()) {
        platform.os_features.push_back(f.get<std::string>());
      }
    }
  }
  platform.extra = std::move(value);
  return platform;
}

Json Platform::to_json() const
{
  Json out = extra;
  out["architecture"] = architecture;
  out["os"] = os;
  if (!variant.empty()) {
    out["variant"] = variant;
  }
  if (!os_version.empty()) {
    out["os.version"] = os_version;
  }
  if (!os_features.empty()) {
    out["os.features"] = os_features;
  }
  return out;
}

Descriptor Descriptor::from_json(Json value, std::string_view where)
{
  if (!value.is_object()) {
    throw JsonShapeError(fmt::format("{} must be an object", where));
  }
  Descriptor d;
  d.media_type = take_string(value, "mediaType", where, true);
  std::string digest_text = take_string(value, "digest", where, true);
  auto digest = Digest::parse(digest_text);
  if (!digest) {
    throw JsonShapeError(fmt::format("{}.digest: {}", where, digest.error()));
  }
  d.digest = *digest;
  Json size = take(value, "size");
  if (!size.is_number_integer() || size.get<int64_t>() < 0) {
    throw JsonShapeError(fmt::format("{}.size must be a non-negative integer", where));
  }
  d.size = size.get<int64_t>();
  Json urls = take(value, "urls");
  if (urls.is_array()) {
    for (auto& u : urls) {
      if (!u.is_string()) {
        throw JsonShapeError(fmt::format("{}.urls must hold strings", where));
      }
      d.urls.push_back(u.get<std::string>());
    }
  }
  d.annotations = take_string_map(value, "annotations", where);
  d.artifact_type = take_string(value, "artifactType", where);
  Json platform = take(value, "platform");
  if (!platform.is_null()) {
    d.platform = Platform::from_json(std::move(platform), fmt::format("{}.platform", where));
  }
  d.extra = std::move(value);
  return d;
}

Json Descriptor::to_json() const
{
  Json out = extra;
  out["mediaType"] = media_type;
  out["digest"] = digest.str();
  out["size"] = size;
  if (!urls.empty()) {
    out["urls"] = urls;
  }
  put_string_map(out, "annotations", annotations);
  if (!artifact_type.empty()) {
    out["artifactType"] = artifact_type;
  }
  if (platform) {
    out["platform"] = platform->to_json();
  }
  return out;
}

} // namespace kiln::oci
