//! A process's virtual memory: one symbol per page, with a dirty bit, and where a
//! non-resident page lives (SPE "Virtual Memory Transfer").

use serde::{Deserialize, Serialize};
use vocab::{HostId, PageNo};

/// One page of a process's address space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Page {
    /// Never written since the address space was made: reads as zero, no transfer.
    Zero,
    /// In memory on the current host; dirty if the backing file lacks this content.
    Resident { sym: u8, dirty: bool },
    /// In the process's backing file on the file server (demand-paged with PAGE_IN).
    Backing,
    /// Left on a host the process ran on (Accent copy-on-reference: a residual dependency).
    Remote(HostId),
}

/// How a page looked when a migration froze the process: the rows of the per-page
/// transfer table (specs/costs.md, "Memory transfer strategies"; SPE §Virtual Memory
/// Transfer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PageClass {
    Dirty,
    Clean,
    NotResident,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vm {
    pub pages: Vec<Page>,
    /// Whether the backing file on the server may hold pages (so exec must discard it).
    pub has_backing: bool,
}

impl Vm {
    pub fn new(pages: u8) -> Vm {
        Vm {
            pages: vec![Page::Zero; pages as usize],
            has_backing: false,
        }
    }

    pub fn get(&self, page: PageNo) -> Option<Page> {
        self.pages.get(page.0 as usize).copied()
    }

    pub fn set(&mut self, page: PageNo, p: Page) {
        if let Some(slot) = self.pages.get_mut(page.0 as usize) {
            *slot = p;
        }
    }

    /// The pages a migration must classify, as (page, class).
    pub fn classes(&self) -> Vec<(PageNo, PageClass)> {
        self.pages
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let c = match p {
                    Page::Resident { dirty: true, .. } => PageClass::Dirty,
                    Page::Resident { dirty: false, .. } => PageClass::Clean,
                    _ => PageClass::NotResident,
                };
                (PageNo(i as u8), c)
            })
            .collect()
    }

    /// Resident dirty pages with their contents.
    pub fn dirty(&self) -> Vec<(PageNo, u8)> {
        self.resident()
            .into_iter()
            .filter(|(_, _, d)| *d)
            .map(|(p, s, _)| (p, s))
            .collect()
    }

    /// Resident pages: (page, contents, dirty).
    pub fn resident(&self) -> Vec<(PageNo, u8, bool)> {
        self.pages
            .iter()
            .enumerate()
            .filter_map(|(i, p)| match p {
                Page::Resident { sym, dirty } => Some((PageNo(i as u8), *sym, *dirty)),
                _ => None,
            })
            .collect()
    }

    /// Non-resident pages that must be brought in (backing file or another host).
    pub fn missing(&self) -> Vec<(PageNo, Page)> {
        self.pages
            .iter()
            .enumerate()
            .filter(|(_, p)| matches!(p, Page::Backing | Page::Remote(_)))
            .map(|(i, p)| (PageNo(i as u8), *p))
            .collect()
    }

    /// Replaces the address space (exec): every page reads as zero again.
    pub fn clear(&mut self) {
        self.pages.iter_mut().for_each(|p| *p = Page::Zero);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_follow_residency_and_dirty_bits() {
        let mut vm = Vm::new(4);
        vm.set(
            PageNo(0),
            Page::Resident {
                sym: 1,
                dirty: true,
            },
        );
        vm.set(
            PageNo(1),
            Page::Resident {
                sym: 0,
                dirty: false,
            },
        );
        vm.set(PageNo(2), Page::Backing);
        let c: Vec<_> = vm.classes().into_iter().map(|(_, c)| c).collect();
        assert_eq!(
            c,
            [
                PageClass::Dirty,
                PageClass::Clean,
                PageClass::NotResident,
                PageClass::NotResident
            ]
        );
        assert_eq!(vm.dirty(), vec![(PageNo(0), 1)]);
        assert_eq!(vm.missing().len(), 1);
        vm.clear();
        assert!(vm.pages.iter().all(|p| *p == Page::Zero));
    }
}
