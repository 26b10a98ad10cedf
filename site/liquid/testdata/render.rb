# Renders the cases read from stdin (JSON) with Ruby Liquid, as Jekyll
# configures it (error_mode warn, render! so errors surface), and
# prints their outputs as JSON.
require 'liquid'
require 'json'

class MemFS
  def initialize(files) @files = files end
  def read_template_file(path)
    @files.fetch(path) { raise Liquid::FileSystemError, "No such template '#{path}'" }
  end
end

cases = JSON.parse(STDIN.read)
out = {}
cases.each do |c|
  Liquid::Template.file_system = MemFS.new(c["partials"] || {})
  begin
    t = Liquid::Template.parse(c["src"], error_mode: :warn, line_numbers: true)
    out[c["name"]] = {"out" => t.render!(c["vars"] || {}, {strict_filters: true})}
  rescue Liquid::Error, ::ArgumentError, ZeroDivisionError, TypeError, NoMethodError => e
    out[c["name"]] = {"err" => e.message}
  end
end
puts JSON.pretty_generate(out)
