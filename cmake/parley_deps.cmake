# Third-party dependencies, all from Debian bookworm (scripts/setup.sh installs them).
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(Boost 1.81 REQUIRED)                 # Asio (header-only)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(tomlplusplus 3 REQUIRED)         # the assistant file (apps/assistant_file)
pkg_check_modules(SNDFILE REQUIRED IMPORTED_TARGET sndfile)
pkg_check_modules(SOXR REQUIRED IMPORTED_TARGET soxr)
pkg_check_modules(WEBRTC_APM REQUIRED IMPORTED_TARGET webrtc-audio-processing)
pkg_check_modules(JWT REQUIRED IMPORTED_TARGET libjwt)      # net/: HS256 JWT authentication
pkg_check_modules(OPUS REQUIRED IMPORTED_TARGET opus)        # net/: Opus audio on the wire
if(PARLEY_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(PARLEY_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()

# Embedded offline engines (engines/pocketsphinx, engines/flite, engines/espeak).
pkg_check_modules(POCKETSPHINX REQUIRED IMPORTED_TARGET pocketsphinx sphinxbase)
pkg_check_modules(ESPEAK_NG REQUIRED IMPORTED_TARGET espeak-ng)

# Response cache shared tier (cache/redis) and HTTPS to LLM providers (engines/openai).
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
find_package(OpenSSL REQUIRED)
find_path(FLITE_INCLUDE_DIR flite/flite.h REQUIRED)
add_library(parley_flite_libs INTERFACE)
target_include_directories(parley_flite_libs INTERFACE ${FLITE_INCLUDE_DIR}/flite)
foreach(lib flite_cmu_us_slt flite_cmu_us_awb flite_cmu_us_rms flite_cmu_us_kal16 flite_cmu_us_kal
            flite_cmulex flite_usenglish flite)
  find_library(PARLEY_LIB_${lib} ${lib} REQUIRED)
  target_link_libraries(parley_flite_libs INTERFACE ${PARLEY_LIB_${lib}})
endforeach()
set(PARLEY_POCKETSPHINX_MODEL_DIR "/usr/share/pocketsphinx/model/en-us" CACHE PATH "pocketsphinx en-us model folder")

# llama.cpp (engines/llama): a system install when present, else the pinned build from npm that
# scripts/fetch_llama.sh puts in third_party/llama (DESIGN §8): prebuilt shared libraries plus the
# headers of the same source. The CPU backend is picked at run time from the libraries' folder.
find_package(llama QUIET)
add_library(parley_llama_libs INTERFACE IMPORTED)
if(llama_FOUND)
  target_link_libraries(parley_llama_libs INTERFACE llama)
  set(PARLEY_LLAMA_SOURCE "system")
else()
  set(PARLEY_LLAMA_DIR "${PROJECT_SOURCE_DIR}/third_party/llama" CACHE PATH "fetched llama.cpp (scripts/fetch_llama.sh)")
  file(GLOB PARLEY_LLAMA_LIBS "${PARLEY_LLAMA_DIR}/lib/libllama.v*.so" "${PARLEY_LLAMA_DIR}/lib/libggml.v*.so"
                              "${PARLEY_LLAMA_DIR}/lib/libggml-base.so")
  list(LENGTH PARLEY_LLAMA_LIBS PARLEY_LLAMA_NLIBS)
  if(NOT PARLEY_LLAMA_NLIBS EQUAL 3 OR NOT EXISTS "${PARLEY_LLAMA_DIR}/src/include/llama.h")
    message(FATAL_ERROR "llama.cpp not found: run scripts/fetch_llama.sh (scripts/setup.sh does) or install it")
  endif()
  target_include_directories(parley_llama_libs INTERFACE "${PARLEY_LLAMA_DIR}/src/include"
                                                         "${PARLEY_LLAMA_DIR}/src/ggml/include")
  target_link_libraries(parley_llama_libs INTERFACE ${PARLEY_LLAMA_LIBS})
  target_compile_definitions(parley_llama_libs INTERFACE PARLEY_LLAMA_BACKEND_DIR="${PARLEY_LLAMA_DIR}/lib")
  set(PARLEY_LLAMA_SOURCE "${PARLEY_LLAMA_DIR}")
endif()
message(STATUS "llama.cpp: ${PARLEY_LLAMA_SOURCE}")
