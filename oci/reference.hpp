#pragma once

// Image references, in containers/image's transport syntax:
//   oci:DIR[:TAG]              an OCI image layout directory
//   oci-archive:FILE[:TAG]     a tar of an OCI image layout
//   docker-archive:FILE[:REF]  `docker save` format
//   docker://NAME              a registry (the client comes with the registry issue)
//   NAME[:TAG|@DIGEST]         kiln's default local store (an OCI layout under
//                              $XDG_DATA_HOME/kiln/images), tagged localhost/NAME:TAG
//                              as buildah and podman name local images
//
// Docker names follow distribution/reference:
//   name      ::= [domain "/"] path
//   domain    ::= host [":" port]      (has a "." or ":" or is "localhost")
//   path      ::= component ("/" component)*
//   component ::= [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*
//   tag       ::= [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}

#include <filesystem>
#include <optional>
#include <string>

#include "oci/digest.hpp"

namespace kiln::oci {

struct DockerReference
{
  std::string domain; // "docker.io"
  std::string path;   // "library/ubuntu"
  std::string tag;    // empty when only a digest is given
  std::optional<Digest> digest;

  // Parses and normalises: "ubuntu" → docker.io/library/ubuntu:latest.
  // `default_domain` is docker.io for registry names, localhost for kiln's
  // local store.
  static Result<DockerReference> parse(std::string_view text, std::string_view default_domain = "docker.io");

  std::string name() const; // domain/path
  std::string str() const;  // domain/path[:tag][@digest]
  // For the local store, "localhost/app:1" is shown as "app:1".
  std::string familiar() const;
};

enum class Transport { oci, oci_archive, docker_archive, docker, local };

struct ImageReference
{
  Transport transport = Transport::local;
  std::filesystem::path path;  // oci, oci-archive, docker-archive
  std::string tag;             // oci, oci-archive: ref.name; may be empty
  std::optional<DockerReference> docker; // docker, local, docker-archive's REF

  static Result<ImageReference> parse(std::string_view text);
  std::string str() const;
  // A readable name for the image inside its destination (used for
  // docker-archive RepoTags and signatures' docker-reference).
  std::string name_for_identity() const;
};

// $XDG_DATA_HOME/kiln/images, or ~/.local/share/kiln/images.
std::filesystem::path default_store_path();

} // namespace kiln::oci
