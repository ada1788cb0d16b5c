#include "oci/reference.hpp"

#include <cstdlib>

#include <fmt/core.h>

#include "base/strings.hpp"

namespace kiln::oci {

namespace {

bool is_lower_alnum(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool valid_component(std::string_view c)
{
  if (c.empty() || !is_lower_alnum(c.front()) || !is_lower_alnum(c.back())) {
    return false;
  }
  for (size_t i = 0; i < c.size(); ++i) {
    if (is_lower_alnum(c[i])) {
      continue;
    }
    // Separators: ".", "_", "__", or any run of "-".
    size_t j = i;
    while (j < c.size() && !is_lower_alnum(c[j])) {
      ++j;
    }
    std::string_view sep = c.substr(i, j - i);
    bool dashes = sep.find_first_not_of('-') == std::string_view::npos;
    if (!(sep == "." || sep == "_" || sep == "__" || dashes)) {
      return false;
    }
    i = j - 1;
  }
  return true;
}

bool valid_tag(std::string_view t)
{
  if (t.empty() || t.size() > 128) {
    return false;
  }
  auto word = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  };
  if (!word(t[0])) {
    return false;
  }
  for (char c : t) {
    if (!word(c) && c != '.' && c != '-') {
      return false;
    }
  }
  return true;
}

bool valid_domain(std::string_view d)
{
  if (d.empty()) {
    return false;
  }
  std::string_view host = d;
  if (size_t colon = d.rfind(':'); colon != std::string_view::npos && d.front() != '[') {
    host = d.substr(0, colon);
    if (!parse_u64(d.substr(colon + 1))) {
      return false;
    }
  }
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-'
              || c == '[' || c == ']' || c == ':';
    if (!ok) {
      return false;
    }
  }
  return true;
}

} // namespace

Result<DockerReference> DockerReference::parse(std::string_view text, std::string_view default_domain)
{
  auto invalid = [&](std::string_view why) {
    return fail(fmt::format("invalid image reference \"{}\": {}", text, why));
  };
  if (text.empty()) {
    return invalid("empty");
  }
  DockerReference ref;
  std::string_view rest = text;
  if (size_t at = rest.find('@'); at != std::string_view::npos) {
    auto digest = Digest::parse(rest.substr(at + 1));
    if (!digest) {
      return invalid(digest.error());
    }
    ref.digest = *digest;
    rest = rest.substr(0, at);
  }
  // A tag follows the last ":" after the last "/" (a port comes before a "/").
  size_t slash = rest.rfind('/');
  size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    ref.tag = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
    if (!valid_tag(ref.tag)) {
      return invalid(fmt::format("tag \"{}\" must match [A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}", ref.tag));
    }
  }
  std::string_view path = rest;
  size_t first_slash = rest.find('/');
  if (first_slash != std::string_view::npos) {
    std::string_view first = rest.substr(0, first_slash);
    if (first.find_first_of(".:") != std::string_view::npos || first == "localhost"
        || first.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string_view::npos) {
      if (!valid_domain(first)) {
        return invalid(fmt::format("registry \"{}\" is not a host[:port]", first));
      }
      ref.domain = first;
      path = rest.substr(first_slash + 1);
    }
  }
  if (ref.domain.empty()) {
    ref.domain = default_domain;
  }
  if (ref.domain == "index.docker.io") {
    ref.domain = "docker.io";
  }
  if (path.empty()) {
    return invalid("no repository name");
  }
  for (auto component : split(path, '/')) {
    if (!valid_component(component)) {
      return invalid(fmt::format("repository component \"{}\" must be lower-case letters, digits and separators",
                                 component));
    }
  }
  ref.path = path;
  if (ref.domain == "docker.io" && ref.path.find('/') == std::string::npos) {
    ref.path = "library/" + ref.path;
  }
  if (ref.path.size() + ref.domain.size() + 1 > 255) {
    return invalid("name longer than 255 characters");
  }
  if (ref.tag.empty() && !ref.digest) {
    ref.tag = "latest";
  }
  return ref;
}

std::string DockerReference::name() const
{
  return fmt::format("{}/{}", domain, path);
}

std::string DockerReference::str() const
{
  std::string text = name();
  if (!tag.empty()) {
    text += ":" + tag;
  }
  if (digest) {
    text += "@" + digest->str();
  }
  return text;
}

std::string DockerReference::familiar() const
{
  std::string text = str();
  if (domain == "localhost") {
    return text.substr(std::string_view("localhost/").size());
  }
  return text;
}

Result<ImageReference> ImageReference::parse(std::string_view text)
{
  ImageReference ref;
  auto split_path_tag = [&](std::string_view body, std::string_view transport) -> Result<void> {
    if (body.empty()) {
      return fail(fmt::format("invalid image reference \"{}\": {} needs a path", text, transport));
    }
    size_t colon = body.find(':');
    ref.path = std::string(body.substr(0, colon));
    if (colon != std::string_view::npos) {
      ref.tag = body.substr(colon + 1);
      if (ref.tag.empty()) {
        return fail(fmt::format("invalid image reference \"{}\": empty tag after \":\"", text));
      }
    }
    return {};
  };
  if (text.starts_with("oci:")) {
    ref.transport = Transport::oci;
    if (auto r = split_path_tag(text.substr(4), "oci:"); !r) {
      return fail(r.error());
    }
    return ref;
  }
  if (text.starts_with("oci-archive:")) {
    ref.transport = Transport::oci_archive;
    if (auto r = split_path_tag(text.substr(12), "oci-archive:"); !r) {
      return fail(r.error());
    }
    return ref;
  }
  if (text.starts_with("docker-archive:")) {
    ref.transport = Transport::docker_archive;
    if (auto r = split_path_tag(text.substr(15), "docker-archive:"); !r) {
      return fail(r.error());
    }
    if (!ref.tag.empty()) {
      auto docker = DockerReference::parse(ref.tag);
      if (!docker) {
        return fail(docker.error());
      }
      ref.docker = *docker;
    }
    return ref;
  }
  if (text.starts_with("docker://")) {
    ref.transport = Transport::docker;
    auto docker = DockerReference::parse(text.substr(9));
    if (!docker) {
      return fail(docker.error());
    }
    ref.docker = *docker;
    return ref;
  }
  size_t colon = text.find(':');
  if (colon != std::string_view::npos && text.find('/') == std::string_view::npos
      && text.substr(0, colon).find_first_of(".") == std::string_view::npos) {
    std::string_view maybe_transport = text.substr(0, colon);
    static constexpr std::string_view k_known[] = {"dir", "containers-storage", "docker-daemon", "ostree", "sif"};
    for (auto known : k_known) {
      if (maybe_transport == known) {
        return fail(fmt::format("invalid image reference \"{}\": transport \"{}\" is not supported "
                                "(kiln reads oci:, oci-archive:, docker-archive:, docker://)",
                                text, known));
      }
    }
  }
  ref.transport = Transport::local;
  auto docker = DockerReference::parse(text, "localhost");
  if (!docker) {
    return fail(docker.error());
  }
  ref.docker = *docker;
  ref.path = default_store_path();
  ref.tag = docker->str();
  return ref;
}

std::string ImageReference::str() const
{
  switch (transport) {
  case Transport::oci:
    return tag.empty() ? fmt::format("oci:{}", path.string()) : fmt::format("oci:{}:{}", path.string(), tag);
  case Transport::oci_archive:
    return tag.empty() ? fmt::format("oci-archive:{}", path.string())
                       : fmt::format("oci-archive:{}:{}", path.string(), tag);
  case Transport::docker_archive:
    return tag.empty() ? fmt::format("docker-archive:{}", path.string())
                       : fmt::format("docker-archive:{}:{}", path.string(), tag);
  case Transport::docker:
    return "docker://" + docker->str();
  case Transport::local:
    return docker->familiar();
  }
  return {};
}

std::string ImageReference::name_for_identity() const
{
  if (docker) {
    return docker->str();
  }
  return tag;
}

std::filesystem::path default_store_path()
{
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && xdg[0] == '/') {
    return std::filesystem::path(xdg) / "kiln" / "images";
  }
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home != nullptr && home[0] != '\0' ? home : "/") / ".local" / "share" / "kiln"
         / "images";
}

} // namespace kiln::oci
