# frozen_string_literal: true

# feedsmith for Jekyll, written by `feedsmith init`: plain `jekyll build` and `jekyll serve`
# then write feedsmith's feeds (site, categories, tags, in Atom, RSS and JSON Feed) into the
# site, and {% feed_meta %} names them. Run `feedsmith init` again to update this file;
# delete it to stop. The command it runs is `feedsmith`, or what FEEDSMITH says
# (`FEEDSMITH="python -m feedsmith"`).
#
# feedsmith-plugin-version: 1

require "digest"
require "json"
require "open3"
require "shellwords"

module Feedsmith
  class << self
    attr_accessor :links, :rendered
  end

  def self.command
    Shellwords.split(ENV.fetch("FEEDSMITH", "feedsmith"))
  end

  # Its state (cache, the list of files it wrote, its lock) lives with Jekyll's own cache,
  # which Jekyll never publishes and `jekyll serve` does not watch.
  def self.state(site)
    File.join(site.source, ".jekyll-cache", "feedsmith")
  end

  def self.run(site, *args)
    out, err, status = Open3.capture3(*command, *args, "--cache-dir", state(site))
    [out, err, status]
  rescue Errno::ENOENT
    raise Jekyll::Errors::FatalException,
          "feedsmith: `#{command.join(" ")}` is not installed (pip install feedsmith, or set FEEDSMITH)"
  end

  def self.report(err)
    err.each_line { |line| Jekyll.logger.warn("feedsmith:", line.chomp) unless line.strip.empty? }
  end

  # feedsmith writes jekyll-feed's feeds (and more) and defines {% feed_meta %}: where
  # jekyll-feed is loaded still (a theme such as minima depends on it), it has nothing to do.
  # The tag is registered again once every plugin is loaded: gems named in `plugins:` load
  # after _plugins/, so a jekyll-feed listed there would otherwise own {% feed_meta %}.
  Jekyll::Hooks.register :site, :after_init do |site|
    site.generators.reject! { |generator| generator.class.name == "JekyllFeed::Generator" }
    Liquid::Template.register_tag("feed_meta", Feedsmith::FeedMeta)
  end

  # Before Jekyll cleans its destination: keep the files feedsmith wrote there, and learn
  # the feed links {% feed_meta %} prints.
  Jekyll::Hooks.register :site, :post_read do |site|
    out, err, status = Feedsmith.run(site, "links", site.source, "-o", site.dest, "--json")
    Feedsmith.report(err)
    raise Jekyll::Errors::FatalException, "feedsmith links failed" unless status.success?

    Feedsmith.links = JSON.parse(out)
    site.keep_files |= Feedsmith.links.fetch("files")
    Feedsmith.rendered = {}
  end

  # Each post as Jekyll renders it (Liquid, plugins' tags, kramdown), for its feed entries.
  Jekyll::Hooks.register [:posts, :documents], :post_convert do |doc|
    next unless doc.respond_to?(:path) && File.file?(doc.path)

    Feedsmith.rendered ||= {}
    Feedsmith.rendered[doc.relative_path] = {
      "sha256" => Digest::SHA256.file(doc.path).hexdigest,
      "html" => doc.content.to_s,
    }
  end

  # After Jekyll has written the site: the feeds.
  Jekyll::Hooks.register :site, :post_write do |site|
    FileUtils.mkdir_p(Feedsmith.state(site))
    content = File.join(Feedsmith.state(site), "jekyll-content.json")
    File.write(content, JSON.generate(Feedsmith.rendered || {}))
    # --allow-empty: a site without posts yet gets feeds without entries, as jekyll-feed gives it
    args = ["build", site.source, "-o", site.dest, "--jekyll-content", content, "--quiet", "--allow-empty"]
    args << "--future" if site.config["future"]
    args << "--drafts" if site.config["show_drafts"]
    out, err, status = Feedsmith.run(site, *args)
    Feedsmith.report(err)
    raise Jekyll::Errors::FatalException, "feedsmith build failed" unless status.success?

    Jekyll.logger.info("feedsmith:", out.strip) unless out.strip.empty?
  end

  # {% feed_meta %}: the site's feeds, and a category's or a tag's own on its page.
  class FeedMeta < Liquid::Tag
    def render(context)
      links = Feedsmith.links || {}
      page = context.registers[:page] || {}
      shown = Array(links["site"])
      shown += Array(links.dig("category", page["category"].to_s)) if page["category"]
      shown += Array(links.dig("tag", page["tag"].to_s)) if page["tag"]
      shown.join("\n")
    end
  end
end

Liquid::Template.register_tag("feed_meta", Feedsmith::FeedMeta)
