# Compiler warnings and sanitizers shared by every parley target.
add_library(parley_compile_options INTERFACE)
target_compile_options(parley_compile_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wno-missing-field-initializers)
if(PARLEY_WERROR)
  target_compile_options(parley_compile_options INTERFACE -Werror)
endif()
if(PARLEY_SANITIZE)
  add_compile_options(-fsanitize=${PARLEY_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12 at -O1 inlines Asio's coroutine-frame operator new (aligned_alloc) and its operator
    # delete (free) into one caller and then reports them as mismatched, a false positive that
    # comes and goes with inlining (openai_chat_model.cpp under TSan). Sanitized builds check the
    # real thing at run time instead (ASan's alloc-dealloc-mismatch); the dev build keeps the warning.
    add_compile_options(-Wno-mismatched-new-delete)
  endif()
  if(PARLEY_SANITIZE MATCHES "thread")
    # GCC warns that TSan does not model std::atomic_thread_fence, which Boost.Asio uses internally.
    add_compile_options(-Wno-tsan)
  endif()
  add_link_options(-fsanitize=${PARLEY_SANITIZE})
endif()

# The linker: LLVM's lld when it is installed (scripts/setup.sh installs it), 3–4× faster than GNU
# ld on parley's many test executables (cli_test: 5.1 s → 1.2 s). PARLEY_LINKER=default keeps the
# compiler's own.
set(PARLEY_LINKER "lld" CACHE STRING "Linker: 'lld' (used when installed) or 'default'")
if(PARLEY_LINKER STREQUAL "lld")
  find_program(PARLEY_LD_LLD ld.lld)
  if(PARLEY_LD_LLD)
    add_link_options(-fuse-ld=lld)
  endif()
endif()

# parley_module(NAME SOURCES... DEPS ...): one static library per src/parley/<dir>.
# The include root is src/, so headers are included as "parley/<dir>/<file>.hpp".
function(parley_module name)
  cmake_parse_arguments(PM "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(parley_${name} STATIC ${PM_SOURCES})
  add_library(parley::${name} ALIAS parley_${name})
  target_include_directories(parley_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(parley_${name} PUBLIC ${PM_DEPS} PRIVATE parley_compile_options ${PM_PRIVATE_DEPS})
  set_target_properties(parley_${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()

# parley_test(NAME SOURCES... DEPS ... [LABELS ...]): one GoogleTest executable registered with CTest.
function(parley_test name)
  cmake_parse_arguments(PT "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${PT_SOURCES})
  target_link_libraries(${name} PRIVATE ${PT_DEPS} GTest::gtest GTest::gmock GTest::gtest_main parley_compile_options)
  if(NOT PT_LABELS)
    set(PT_LABELS unit)
  endif()
  gtest_discover_tests(${name} PROPERTIES LABELS "${PT_LABELS}" DISCOVERY_TIMEOUT 60)
endfunction()
